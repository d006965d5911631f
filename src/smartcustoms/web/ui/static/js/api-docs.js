// Starts Swagger UI on the role-gated OpenAPI document (kept out of the HTML for the CSP).
window.addEventListener("load", function () {
  window.SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
