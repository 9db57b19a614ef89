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

  // Upload from this computer. The dashboard first answers a plan for this file: one up
  // to the cloud's segment size is PUT whole as the request body; a larger one is sent
  // segment by segment, then the dashboard writes the manifest that joins them. A segment
  // is hashed while it is being sent, and its MD5 compared with the one the store
  // computed; one the store already holds is hashed first and skipped when it matches
  // (choosing the same file again resumes). Either way the import form above is then
  // filled in with the object.
  function mebibytes(bytes) { return (bytes / 1048576).toFixed(1) + " MiB"; }
  function plural(count, word) { return count + " " + word + (count === 1 ? "" : "s"); }

  // What is read from the file at a time to hash it: the segment is never held whole.
  var HASH_CHUNK = 4 * 1048576;

  function UploadStop(kind, message, answer) { this.kind = kind; this.message = message; this.answer = answer || {}; }

  // One request of an upload, as a promise of its JSON answer; `upload.xhr` is the one in
  // flight, for Cancel. A refusal rejects with the dashboard's message.
  function ask(upload, method, url, body, onProgress) {
    return new Promise(function (resolve, reject) {
      if (upload.cancelled) { reject(new UploadStop("cancelled")); return; }
      var xhr = new XMLHttpRequest();
      upload.xhr = xhr;
      xhr.open(method, url);
      xhr.setRequestHeader("X-CSRFToken", upload.csrf);
      if (body instanceof Blob) xhr.setRequestHeader("Content-Type", "application/octet-stream");
      else if (body) xhr.setRequestHeader("Content-Type", "application/json");
      if (onProgress) {
        xhr.upload.addEventListener("progress", function (e) { if (e.lengthComputable) onProgress(e.loaded); });
      }
      xhr.addEventListener("load", function () {
        upload.xhr = null;
        var answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (ignored) { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300) resolve(answer);
        else reject(new UploadStop("refused", answer.error || "The upload failed (HTTP " + xhr.status + ").", answer));
      });
      xhr.addEventListener("error", function () { upload.xhr = null; reject(new UploadStop("network")); });
      xhr.addEventListener("abort", function () { upload.xhr = null; reject(new UploadStop("cancelled")); });
      xhr.send(body || null);
    });
  }

  // The MD5 of a slice of the file, read a chunk at a time; each chunk also goes into
  // the whole file's MD5, so that one is ready when the last segment is. Reading stops
  // when the upload is cancelled or `job.stopped` is set (the PUT beside it failed).
  function hashSlice(upload, blob, whole, onRead, job) {
    var segment = new SparkMD5.ArrayBuffer();
    function from(offset) {
      if (upload.cancelled || job.stopped) return Promise.reject(new UploadStop("cancelled"));
      if (offset >= blob.size) return Promise.resolve(segment.end());
      var end = Math.min(offset + HASH_CHUNK, blob.size);
      return blob.slice(offset, end).arrayBuffer().then(function (buffer) {
        segment.append(buffer);
        whole.append(buffer);
        onRead(end - offset);
        return from(end);
      }, function () {
        throw new UploadStop("refused", "The file could not be read: was it changed or moved " +
          "while it was being uploaded?");
      });
    }
    return from(0);
  }

  // Sends the plan's segments in order, then asks for the manifest; resolves to the
  // stored object's answer. Progress is one share of all the work: a byte of a segment
  // hashed while it is sent counts once it is both read and sent; a segment the store
  // already holds is read once to check it, and then sent (or found) on top.
  function sendSegments(upload, file, plan, show) {
    var whole = new SparkMD5.ArrayBuffer();
    var md5s = [];
    var done = 0, sent = 0;
    var count = plan.segments.length;
    upload.total = plan.segments.reduce(function (total, segment) {
      return total + (segment.etag ? 2 : 1) * segment.length;
    }, 0);
    function put(i, blob, md5, onLoaded) {
      var url = plan.segment_url + "&index=" + i + (md5 ? "&md5=" + md5 : "");
      return ask(upload, "PUT", url, blob, onLoaded);
    }
    function stored(segment) {
      done += segment.length;
      sent += segment.length;
      upload.stored += 1;
    }
    // Nothing stored at this index: the slice is read for its MD5 while it is sent, and
    // the MD5 the store computed must be the page's.
    function hashWhileSending(i, segment, blob, where) {
      var hashed = 0, loaded = 0, job = { stopped: false };
      function progress() { show(done + Math.min(hashed, loaded), "sending " + where, sent + loaded); }
      progress();
      return Promise.all([
        hashSlice(upload, blob, whole, function (read) { hashed += read; progress(); }, job),
        put(i, blob, null, function (bytes) { loaded = bytes; progress(); }),
      ]).then(function (results) {
        var md5 = results[0], answer = results[1];
        md5s.push(md5);
        // A store that answers no ETag said nothing: the manifest step still compares.
        if (answer.etag && answer.etag !== md5) return sendAgain(i, segment, blob, where, md5);
        stored(segment);
      }, function (stop) {
        job.stopped = true;
        if (upload.xhr) upload.xhr.abort();
        throw stop;
      });
    }
    // The store kept other bytes than the page read: they are removed, and the segment is
    // sent once more with its MD5, which the store must now match or refuse.
    function sendAgain(i, segment, blob, where, md5) {
      upload.total += segment.length;
      done += segment.length;
      show(done, where + " arrived different from the file; sending it again", sent);
      return ask(upload, "DELETE", plan.segment_url + "&index=" + i).then(function () {
        return put(i, blob, md5, function (loaded) {
          show(done + loaded, "sending " + where + " again", sent + loaded);
        });
      }).then(function () { stored(segment); });
    }
    // A segment stored already (an earlier upload of this file dropped): hashed first,
    // and sent only when it is not the file's.
    function checkThenSend(i, segment, blob, where) {
      var job = { stopped: false };
      return hashSlice(upload, blob, whole, function (read) {
        done += read;
        show(done, "checking " + where, sent);
      }, job).then(function (md5) {
        md5s.push(md5);
        if (segment.etag === md5) {
          upload.found += 1;
          done += segment.length;
          sent += segment.length;
          show(done, where + " already stored", sent);
          return null;
        }
        show(done, "sending " + where, sent);
        return put(i, blob, md5, function (loaded) {
          show(done + loaded, "sending " + where, sent + loaded);
        }).then(function () { stored(segment); });
      });
    }
    function next(i) {
      if (i === count) return null;
      var segment = plan.segments[i];
      var offset = i * plan.segment_size;
      var blob = file.slice(offset, offset + segment.length);
      var where = "segment " + (i + 1) + " of " + count;
      var step = segment.etag ? checkThenSend : hashWhileSending;
      return step(i, segment, blob, where).then(function () { return next(i + 1); });
    }
    return Promise.resolve(next(0)).then(function () {
      show(upload.total, "joining " + plural(count, "segment"), file.size);
      return ask(upload, "POST", plan.manifest_url, JSON.stringify({ md5: whole.end(), segments: md5s }));
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-upload-plan]");
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
    var path = encodeURIComponent(container) + "/" + name.split("/").map(encodeURIComponent).join("/");
    var query = "?size=" + file.size + "&mtime=" + file.lastModified;
    var upload = {
      csrf: form.elements.csrfmiddlewaretoken.value, xhr: null, cancelled: false,
      plan: null, total: file.size, stored: 0, found: 0,
    };
    var warnOnLeave = function (e) { e.preventDefault(); e.returnValue = ""; };
    // done: of upload.total; doing and bytes (sent so far): a segmented upload's detail.
    var show = function (done, doing, bytes) {
      progress.max = upload.total;
      progress.value = done;
      status.textContent = "Uploading " + Math.floor(100 * done / upload.total) + " % (" +
        (doing ? doing + ", " + mebibytes(bytes) + " of " + mebibytes(file.size) + " sent" :
          mebibytes(done) + " of " + mebibytes(file.size)) + ")";
    };
    var finish = function (message, failed) {
      window.removeEventListener("beforeunload", warnOnLeave);
      submit.disabled = false;
      cancel.hidden = true;
      cancel.disabled = false;
      status.textContent = message;
      status.classList.toggle("error", !!failed);
    };
    var stored = function (answer) {
      var importForm = document.getElementById("import-form");
      fillImportForm(importForm, answer.container, answer.object,
        answer.object.split("/").pop().replace(/\.vhd$/i, ""));
      // The browser shows the container the file went to, the new object in it.
      if (window.htmx && document.getElementById("browser")) {
        htmx.ajax("GET", form.dataset.browseUrl + "?container=" + encodeURIComponent(answer.container),
          { target: "#browser", swap: "outerHTML" });
      }
      progress.value = progress.max;
      var pieces = answer.segments ? " in " + plural(answer.segments, "segment") +
        (upload.found ? ", " + upload.found + " of them already stored" : "") : "";
      finish("Uploaded " + answer.container + "/" + answer.object + " (" + mebibytes(answer.bytes) + pieces +
        (answer.verified ? ", checksum verified" : "; the store did not confirm its checksum") +
        "). Check the image name and press Import.");
      importForm.elements.name.focus();
    };
    var segmented = function () { return upload.plan && !upload.plan.single; };
    var removeSegments = function () {
      status.textContent = "Cancelling: removing the segments sent…";
      var abandoned = { csrf: upload.csrf, xhr: null, cancelled: false };
      return ask(abandoned, "POST", upload.plan.cancel_url).then(function (answer) {
        finish("Upload cancelled: " + (answer.removed ?
          "the " + plural(answer.removed, "segment") + " already stored " + (answer.removed === 1 ? "was" : "were") + " removed" :
          "no segment was stored") + ". Nothing was kept.", true);
      }, function (stop) {
        finish("Upload cancelled, but its segments could not be removed: " +
          (stop.message || "the network dropped") +
          " Upload the same file again and cancel it to remove them.", true);
      });
    };
    var stopped = function (stop) {
      if (!(stop instanceof UploadStop)) throw stop;
      if (stop.kind === "cancelled") {
        // The same file, already stored whole: its segments are that object's; they stay.
        if (segmented() && upload.plan.complete) {
          finish("Upload cancelled. The object stored earlier from this same file is kept.", true);
          return;
        }
        if (segmented()) return removeSegments();
        finish("Upload cancelled. Nothing was stored.", true);
      } else if (segmented() && upload.stored + upload.found > 0) {
        finish((stop.kind === "network" ? "The upload stopped: the network dropped." : stop.message) +
          " The " + plural(upload.stored + upload.found, "segment") + " already stored " +
          (upload.stored + upload.found === 1 ? "is" : "are") +
          " kept: choose the same file and press Upload again to send the rest.", true);
      } else if (stop.kind === "network") {
        finish("The upload failed: the network dropped. Nothing was stored.", true);
      } else {
        finish(stop.message, true);
      }
    };
    cancel.onclick = function () {
      upload.cancelled = true;
      cancel.disabled = true;
      if (upload.xhr) upload.xhr.abort();
    };
    window.addEventListener("beforeunload", warnOnLeave);
    submit.disabled = true;
    cancel.hidden = false;
    progress.hidden = false;
    progress.value = 0;
    status.textContent = "Uploading…";
    ask(upload, "GET", form.dataset.uploadPlan + path + query).then(function (plan) {
      upload.plan = plan;
      if (plan.single) {
        return ask(upload, "PUT", plan.upload_url, file, function (loaded) { show(loaded); });
      }
      return sendSegments(upload, file, plan, show);
    }).then(stored, stopped);
  });

  // Upload from this computer into a new image (glance-direct): the file is the body of
  // one PUT and the form's fields its query; the dashboard streams it on to the image's
  // staging area and asks for the import, then the task's page follows it.
  document.addEventListener("change", function (event) {
    var input = event.target.closest("form[data-image-upload] input[type=file]");
    if (!input || !input.files[0]) return;
    var form = input.form;
    var name = input.files[0].name;
    var dot = name.lastIndexOf(".");
    var extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
    var format = form.elements.disk_format;
    var known = format && Array.prototype.some.call(format.options, function (o) { return o.value === extension; });
    if (known) format.value = extension;
    suggestName(form.elements.name, dot > 0 ? name.slice(0, dot) : name);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-image-upload]");
    if (!form) return;
    event.preventDefault();
    var file = form.elements.file.files[0];
    var status = form.querySelector(".upload-status");
    var progress = form.querySelector("progress");
    var cancel = form.querySelector("[data-upload-cancel]");
    var submit = form.querySelector("button[type=submit]");
    var refuse = function (message, field) {
      status.textContent = message;
      status.classList.add("error");
      if (field) field.focus();
    };
    status.classList.remove("error");
    if (!file) { refuse("Choose a file first.", form.elements.file); return; }
    if (!file.size) { refuse("The file is empty: there is nothing to import.", form.elements.file); return; }
    if (!form.elements.name.value.trim()) { refuse("Name the image.", form.elements.name); return; }
    form.elements.filename.value = file.name;
    var query = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (typeof value === "string" && key !== "csrfmiddlewaretoken" && key !== "how") query.append(key, value);
    });
    var upload = { csrf: form.elements.csrfmiddlewaretoken.value, xhr: null, cancelled: false };
    var warnOnLeave = function (e) { e.preventDefault(); e.returnValue = ""; };
    var finish = function (message) {
      window.removeEventListener("beforeunload", warnOnLeave);
      submit.disabled = false;
      cancel.hidden = true;
      cancel.disabled = false;
      progress.hidden = true;
      refuse(message);
    };
    // A submission that ended without a task to show is sent again as a new one.
    var renew = function (answer) {
      var next = answer.submission_id || (window.crypto && crypto.randomUUID && crypto.randomUUID());
      if (next) form.elements.submission_id.value = next;
    };
    cancel.onclick = function () {
      upload.cancelled = true;
      cancel.disabled = true;
      if (upload.xhr) upload.xhr.abort();
    };
    window.addEventListener("beforeunload", warnOnLeave);
    submit.disabled = true;
    cancel.hidden = false;
    progress.hidden = false;
    progress.max = file.size;
    progress.value = 0;
    status.textContent = "Uploading…";
    ask(upload, "PUT", form.dataset.imageUpload + "?" + query.toString(), file, function (loaded) {
      progress.value = loaded;
      status.textContent = loaded < file.size ?
        "Uploading " + Math.floor(100 * loaded / file.size) + " % (" + mebibytes(loaded) + " of " + mebibytes(file.size) + ")" :
        "Uploaded " + mebibytes(file.size) + ": asking the cloud to import it…";
    }).then(function (answer) {
      window.removeEventListener("beforeunload", warnOnLeave);
      cancel.hidden = true;
      status.textContent = "Uploaded " + file.name + ": the cloud is importing it. Opening its task…";
      window.location.assign(answer.task_url);
    }, function (stop) {
      if (!(stop instanceof UploadStop)) throw stop;
      renew(stop.answer);
      if (stop.kind === "cancelled") finish("Upload cancelled. Nothing was imported.");
      else if (stop.kind === "network") {
        finish("The upload was cut off before the whole file arrived (the network dropped). " +
          "Nothing was imported. Press Upload and import to send the file again.");
      } else finish(stop.message);
    });
  });
})();
