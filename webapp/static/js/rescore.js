// Polls the re-scoring task's progress (JSON {state, done, total}) and shows it in #rescore.
// A static file, not an inline script, so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  var box = document.getElementById("rescore");
  if (!box) { return; }
  var bar = document.getElementById("rescore-bar");
  var status = document.getElementById("rescore-status");
  var url = box.dataset.progressUrl;

  function show(data) {
    var done = data.done || 0, total = data.total || 0;
    if (total > 0) { bar.max = total; bar.value = done; }
    if (data.state === "SUCCESS") {
      bar.max = 1; bar.value = 1;
      status.textContent = data.detail ? data.detail : "Done: " + done + " mentions re-scored; the charts show the new scores.";
      return true;
    }
    if (data.state === "FAILURE") {
      status.textContent = "Re-scoring failed" + (data.detail ? " (" + data.detail + ")" : "") + ".";
      return true;
    }
    status.textContent = data.state === "PROGRESS" ? done + " of " + total + " mentions re-scored…" : "queued…";
    return false;
  }

  window.sentimonPoll(url, show);  // static/js/poll.js, loaded first
})();
