// Small progressive enhancements: every page works without this file.
(function () {
  "use strict";

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

  // The object browser fills the import form in place instead of reloading the page.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-fill-container]");
    if (!link) return;
    var form = document.getElementById("import-form");
    if (!form) return;
    event.preventDefault();
    form.elements.container.value = link.dataset.fillContainer;
    form.elements.object.value = link.dataset.fillObject;
    if (form.elements.name && !form.elements.name.dataset.touched) {
      form.elements.name.value = link.dataset.fillName;
    }
    form.elements.object.focus();
  });
  document.addEventListener("input", function (event) {
    if (event.target.name === "name") event.target.dataset.touched = "1";
  });
})();
