// Connector Dashboard's small script: toasts from htmx responses (HX-Trigger "toasts").
(function () {
  "use strict";

  function showToast(level, message) {
    var region = document.getElementById("toasts");
    if (!region) return;
    var toast = document.createElement("div");
    toast.className = "toast toast-" + (level || "info");
    toast.textContent = message;
    region.appendChild(toast);
    window.setTimeout(function () { toast.remove(); }, 8000);
  }

  document.addEventListener("toasts", function (event) {
    (event.detail.toasts || []).forEach(function (t) { showToast(t.level, t.message); });
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(function (toast) {
      window.setTimeout(function () { toast.remove(); }, 8000);
    });
  });
})();
