// Copy buttons and delete confirmations; the pages work without this file (CSP: no inline script).
"use strict";
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) { return; }
  var text = document.getElementById(button.dataset.copy).textContent;
  var done = function () { button.textContent = "Copied"; button.dataset.copied = text; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, done);
  } else {
    var area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* the command stays selectable */ }
    area.remove();
    done();
  }
});
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  if (form.id === "open-form") {
    event.preventDefault();
    var name = document.getElementById("open-name").value.trim();
    if (name) { window.location.href = form.dataset.base + name; }
  }
});
