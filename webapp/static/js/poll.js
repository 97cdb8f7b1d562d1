// One polling loop for the progress boxes (backfill.js, rescore.js): asks `url` for JSON every
// second and hands it to `show`, which returns true when the work is finished; after a failed
// request it waits 2 s, and gives up after 30 failures in a row.
// A static file, not an inline script, so the Content-Security-Policy can forbid inline scripts.
window.sentimonPoll = function (url, show) {
  "use strict";
  var failures = 0;
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) { failures = 0; if (!show(data)) { setTimeout(poll, 1000); } })
      .catch(function () { failures += 1; if (failures < 30) { setTimeout(poll, 2000); } });
  }
  poll();
};
