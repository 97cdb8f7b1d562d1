// Times in the viewer's time zone, the zone named, on every page (base.html loads this file).
// Pages render UTC text inside <time datetime="..."> (what readers without scripts see); this
// rewrites it in the browser's zone, or keeps UTC when the viewer chose it with the switch in the
// top bar (remembered in the `sentimon_tz` cookie for a year). static/js/charts.js reads
// window.SentimonTime to move chart axes to the same zone.
// Kept in a file (no inline script) so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  if (window.SentimonTime) { return; }   // some pages also load this file themselves
  var COOKIE = "sentimon_tz";

  function chosen() {
    var m = document.cookie.match(/(?:^|;\s*)sentimon_tz=([^;]*)/);
    return m && m[1] === "utc" ? "utc" : "local";
  }
  function browserZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { return "UTC"; }
  }
  var mode = chosen();
  var zone = mode === "utc" ? "UTC" : browserZone();

  function parts(date, withSeconds) {
    var fmt = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
      minute: "2-digit", second: "2-digit", hourCycle: "h23"
    });
    var out = {};
    fmt.formatToParts(date).forEach(function (p) { out[p.type] = p.value; });
    var text = out.year + "-" + out.month + "-" + out.day + " " + out.hour + ":" + out.minute;
    return withSeconds ? text + ":" + out.second : text;
  }
  // "2024-05-31 14:00" in the chosen zone, for an ISO time with an offset (charts.js: wall time
  // strings, which Plotly draws as they are).
  function wall(iso) {
    var when = new Date(iso);
    return isNaN(when.getTime()) ? iso : parts(when, true);
  }
  function label() { return zone === "UTC" ? "UTC" : zone; }

  function localize() {
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) { return; }
      if (!el.title) { el.title = when.toISOString().replace("T", " ").slice(0, 19) + " UTC"; }
      el.textContent = parts(when, el.dataset.seconds === "1") + " " + label();
      el.dataset.zone = zone;
    });
    document.querySelectorAll("[data-zone-name]").forEach(function (el) { el.textContent = label(); });
    var button = document.getElementById("tz-switch");
    var utcHere = /^(Etc\/)?(UTC|GMT|Universal|Zulu)$/.test(browserZone());
    if (button && !(utcHere && mode === "local")) {   // nothing to switch to where the browser is on UTC
      button.hidden = false;
      button.textContent = mode === "utc" ? "Use my time zone (" + browserZone() + ")" : "Use UTC";
      button.setAttribute("aria-pressed", mode === "utc" ? "true" : "false");
      button.addEventListener("click", function () {
        var next = mode === "utc" ? "local" : "utc";
        document.cookie = COOKIE + "=" + next + "; path=/; max-age=31536000; SameSite=Lax";
        window.location.reload();
      });
    }
  }
  window.SentimonTime = { zone: zone, mode: mode, wall: wall, label: label };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", localize);
  } else {
    localize();
  }
})();
