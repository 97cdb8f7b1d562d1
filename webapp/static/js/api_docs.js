// Starts Swagger UI on /api/docs over the spec URL the page names (a file: the CSP forbids inline scripts).
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  if (!el || typeof SwaggerUIBundle === "undefined") { return; }
  window.ui = SwaggerUIBundle({
    url: el.dataset.specUrl, domNode: el, deepLinking: true, tryItOutEnabled: false,
    validatorUrl: null        // the default validator is a remote service: nothing leaves the installation
  });
})();
