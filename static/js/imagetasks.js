// Small progressive enhancements: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // A live part (data-live) asks nothing while its tab is hidden; being shown again
  // triggers it at once (see the live_trigger template tag).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var live = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("[data-live]");
    if (live && document.visibilityState !== "visible") event.preventDefault();
  });

  // A form shown again with errors: the person's focus goes to the first thing to fix.
  var firstProblem = document.querySelector(
    ".form-errors, .has-error input:not([type=hidden]):not([type=search]):not([disabled])," +
    " .has-error select, .has-error textarea"
  );
  if (firstProblem) firstProblem.focus();

  // Phones: the task filters fold behind a button.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest(".filters-toggle");
    if (!toggle) return;
    var open = toggle.closest(".filters").classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // Copy buttons: <button data-copy="text">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button || !navigator.clipboard) return;
    navigator.clipboard.writeText(button.dataset.copy).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1200);
    });
  });

  // A name the page suggests (after the chosen object or image) until one is typed.
  function suggestName(field, value) {
    if (field && !field.dataset.touched) field.value = value;
  }

  // The import form gets the object a person picked in the browser or just uploaded.
  function fillImportForm(form, container, object, name) {
    form.elements.container.value = container;
    form.elements.object.value = object;
    suggestName(form.elements.name, name);
    // Filled in by script: say so, so that the form's warnings are checked again.
    form.elements.object.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // The object browser fills the import form in place instead of reloading the page.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-fill-container]");
    if (!link) return;
    var form = document.getElementById("import-form");
    if (!form) return;
    event.preventDefault();
    fillImportForm(form, link.dataset.fillContainer, link.dataset.fillObject, link.dataset.fillName);
    form.elements.object.focus();
  });
  document.addEventListener("input", function (event) {
    if (event.target.name === "name") event.target.dataset.touched = "1";
  });

  // A list the person moved through (the object browser, the image picker) keeps the
  // focus inside it when it is redrawn; htmx itself restores focus to elements with an id.
  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.detail.elt;
    if (!swapped || !swapped.matches || !swapped.matches("#browser, #image-choices")) return;
    if (document.activeElement && document.activeElement !== document.body) return;
    var target = swapped.querySelector("[data-focus-after-swap]") || swapped;
    target.focus();
  });

  // Picking an image in the copy form names the copy after it, until the name is typed.
  document.addEventListener("change", function (event) {
    var radio = event.target.closest("input[type=radio][data-image-name]");
    if (radio && radio.form) suggestName(radio.form.elements.name, radio.dataset.imageName);
  });

  // Upload from this computer: the file is PUT as the request body, with a progress
  // bar, then the import form above is filled in with the stored object.
  function mebibytes(bytes) { return (bytes / 1048576).toFixed(1) + " MiB"; }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-upload-base]");
    if (!form) return;
    event.preventDefault();
    var file = form.elements.file.files[0];
    var status = form.querySelector(".upload-status");
    var progress = form.querySelector("progress");
    var cancel = form.querySelector("[data-upload-cancel]");
    var submit = form.querySelector("button[type=submit]");
    var container = form.elements.container.value.trim();
    var name = form.elements.object.value.trim() || (file && file.name) || "";
    status.classList.remove("error");
    if (!file) { status.textContent = "Choose a file first."; status.classList.add("error"); return; }
    if (!container) { status.textContent = "Name the container."; status.classList.add("error"); return; }
    var url = form.dataset.uploadBase + encodeURIComponent(container) + "/" +
      name.split("/").map(encodeURIComponent).join("/");
    var xhr = new XMLHttpRequest();
    var warnOnLeave = function (e) { e.preventDefault(); e.returnValue = ""; };
    var finish = function (message, failed) {
      window.removeEventListener("beforeunload", warnOnLeave);
      submit.disabled = false;
      cancel.hidden = true;
      status.textContent = message;
      status.classList.toggle("error", !!failed);
    };
    xhr.open("PUT", url);
    xhr.setRequestHeader("X-CSRFToken", form.elements.csrfmiddlewaretoken.value);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      progress.max = e.total;
      progress.value = e.loaded;
      status.textContent = "Uploading " + Math.floor(100 * e.loaded / e.total) + " % (" +
        mebibytes(e.loaded) + " of " + mebibytes(e.total) + ")";
    });
    xhr.addEventListener("load", function () {
      var answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (ignored) { /* not JSON */ }
      if (xhr.status !== 201) {
        finish(answer.error || "The upload failed (HTTP " + xhr.status + "); nothing was stored.", true);
        return;
      }
      var importForm = document.getElementById("import-form");
      fillImportForm(importForm, answer.container, answer.object,
        answer.object.split("/").pop().replace(/\.vhd$/i, ""));
      // The browser shows the container the file went to, the new object in it.
      if (window.htmx && document.getElementById("browser")) {
        htmx.ajax("GET", form.dataset.browseUrl + "?container=" + encodeURIComponent(answer.container),
          { target: "#browser", swap: "outerHTML" });
      }
      progress.value = progress.max;
      finish("Uploaded " + answer.container + "/" + answer.object + " (" + mebibytes(answer.bytes) +
        (answer.verified ? ", checksum verified" : "; the store did not confirm its checksum") +
        "). Check the image name and press Import.");
      importForm.elements.name.focus();
    });
    xhr.addEventListener("error", function () { finish("The upload failed: the network dropped. Nothing was stored.", true); });
    xhr.addEventListener("abort", function () { finish("Upload cancelled. Nothing was stored.", true); });
    cancel.onclick = function () { xhr.abort(); };
    window.addEventListener("beforeunload", warnOnLeave);
    submit.disabled = true;
    cancel.hidden = false;
    progress.hidden = false;
    progress.value = 0;
    status.textContent = "Uploading…";
    xhr.send(file);
  });
})();
