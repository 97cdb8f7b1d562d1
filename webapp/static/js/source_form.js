// Monitor forms: typing in a source section ticks its "Add" box, so a filled section is added
// without an extra click. Only an enhancement: without it the server asks for the tick instead.
// A static file, not an inline script, so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  function wire() {
    document.querySelectorAll("[data-source-sections] details[data-kind]").forEach(function (section) {
      var add = section.querySelector('input[type="checkbox"]');
      if (!add) { return; }  // RSS: its lines add sources
      section.addEventListener("input", function (event) {
        var target = event.target;
        if (target === add || /-every$/.test(target.name || "")) { return; }
        if (target.value && target.value.trim()) { add.checked = true; }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wire);
  } else {
    wire();
  }
})();
