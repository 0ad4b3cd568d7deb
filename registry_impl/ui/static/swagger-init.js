// Swagger UI over this registry's own openapi.yaml (no inline script: the page's CSP forbids it).
"use strict";
window.addEventListener("load", function () {
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: node.dataset.spec, dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null });
});
