// Draws every chart whose figure JSON sits in a <script type="application/json"> block.
// Kept in a file (no inline script) so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var source = document.getElementById(el.dataset.figure);
      if (!source || typeof Plotly === "undefined") { return; }
      var fig = inZone(JSON.parse(source.textContent));
      var drawn = Plotly.newPlot(el, fig.data, fig.layout, {
        responsive: true, displaylogo: false,
        displayModeBar: window.innerWidth < 600 ? false : "hover"   // on a phone it would cover the legend
      });
      Promise.resolve(drawn).then(function () {
        if (el.dataset.clickUrl) {
          el.on("plotly_click", function (event) { openBucket(el.dataset.clickUrl, event); });
        }
        el.dataset.drawn = "1";
      });
    });
  }

  // Figures come with UTC times; the axes show the viewer's zone (static/js/localtime.js): the
  // x values, the axis range and the marker strips become wall times there, and the axis title
  // names the zone. customdata keeps the ISO times for the click-through.
  function inZone(fig) {
    var time = window.SentimonTime;
    var axis = fig.layout && fig.layout.xaxis;
    if (!time || !axis || axis.type !== "date") { return fig; }
    var wall = function (v) { return typeof v === "string" ? time.wall(v) : v; };
    (fig.data || []).forEach(function (trace) {
      if (Array.isArray(trace.x)) { trace.x = trace.x.map(wall); }
    });
    (fig.layout.shapes || []).forEach(function (shape) {
      if (shape.xref === "x") { shape.x0 = wall(shape.x0); shape.x1 = wall(shape.x1); }
    });
    if (Array.isArray(axis.range)) { axis.range = axis.range.map(wall); }
    axis.title = { text: "time (" + time.label() + ")" };
    return fig;
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
