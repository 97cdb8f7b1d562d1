// Polls a backfill's progress (JSON from the progress view) and updates #backfill-progress.
// A static file, not an inline script, so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  var box = document.getElementById("backfill-progress");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var status = document.getElementById("backfill-status");
  var errors = document.getElementById("backfill-errors");
  var url = box.dataset.progressUrl;

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function show(data) {
    var slices = data.slices || {};
    bar.max = Math.max(slices.total || 0, 1);
    bar.value = slices.done || 0;
    status.textContent = data.status + ": " + (slices.done || 0) + " of " + (slices.total || 0) + " slices done" +
      (slices.failed ? ", " + slices.failed + " failed" : "") + "; " +
      plural(data.published || 0, "mention") + " published of " + (data.fetched || 0) + " fetched";
    status.className = "status " + data.status;
    errors.textContent = "";
    (data.errors || []).forEach(function (e) {
      var item = document.createElement("li");
      item.textContent = "source " + e.source_id + ", " + e.day + ": " + e.error;
      errors.appendChild(item);
    });
    return Boolean(data.finished);
  }

  window.sentimonPoll(url, show);  // static/js/poll.js, loaded first
})();
