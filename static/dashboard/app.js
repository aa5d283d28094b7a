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

// Confirmation dialogs: links with hx-target="#dialog-content" load a confirmation form into the
// page's one <dialog>; without JavaScript the same links open the confirmation page.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "dialog-content") {
      var dialog = document.getElementById("dialog");
      if (dialog && !dialog.open) dialog.showModal();
    }
  });
  // A response that finished the dialog's job asks for it to close (HX-Trigger "dialog:close").
  document.addEventListener("dialog:close", function () {
    var dialog = document.getElementById("dialog");
    if (dialog && dialog.open) dialog.close();
  });
  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close-dialog]");
    var dialog = document.getElementById("dialog");
    if (close && dialog && dialog.open && dialog.contains(close)) {
      event.preventDefault();
      dialog.close();
    }
    var all = event.target.closest("[data-select-all]");
    if (all) {
      var name = all.getAttribute("data-select-all");
      document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
        box.checked = all.checked;
      });
    }
  });
})();
