// Draws every chart whose figure JSON sits in a <script type="application/json"> block.
// Kept in a file (no inline script) so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var source = document.getElementById(el.dataset.figure);
      if (!source || typeof Plotly === "undefined") { return; }
      var fig = JSON.parse(source.textContent);
      var drawn = Plotly.newPlot(el, fig.data, fig.layout, { responsive: true, displaylogo: false });
      Promise.resolve(drawn).then(function () {
        if (el.dataset.clickUrl) {
          el.on("plotly_click", function (event) { openBucket(el.dataset.clickUrl, event); });
        }
        el.dataset.drawn = "1";
      });
    });
  }

  // Time-series points carry customdata = [bucket start, bucket end] (ISO); a click opens the
  // mentions of that bucket: <data-click-url>?since=<start>&until=<end>.
  function openBucket(base, event) {
    var points = (event && event.points) || [];
    for (var i = 0; i < points.length; i++) {
      var span = points[i].customdata;
      if (span && span.length === 2) {
        window.location.href = bucketUrl(base, span);
        return;
      }
    }
  }

  function bucketUrl(base, span) {
    return base + (base.indexOf("?") < 0 ? "?" : "&") + "since=" + encodeURIComponent(span[0]) +
      "&until=" + encodeURIComponent(span[1]);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
