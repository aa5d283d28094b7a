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

  // An error answer the server did not explain with a toast of its own (a crash, a 404 from an
  // unknown URL, a lost connection) still says what happened; the page stays as it was.
  var STATUS_TEXT = {
    400: "The request was not understood",
    403: "You are not allowed to do this",
    404: "Not found: the page or object may have been deleted meanwhile",
    405: "This action is not available here",
    500: "The dashboard failed to answer (a server error)",
    502: "Graph failed to answer",
    503: "The service is unavailable right now",
    504: "No answer in time"
  };

  function explained(xhr) {
    var trigger = xhr && xhr.getResponseHeader("HX-Trigger");
    return Boolean(trigger && trigger.indexOf('"toasts"') !== -1);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (explained(xhr)) return;
    var text = STATUS_TEXT[xhr.status] || "The dashboard answered with an error";
    showToast("error", text + " (HTTP " + xhr.status + "). The page was left as it was; try again, or reload it.");
  });

  document.addEventListener("htmx:sendError", function () {
    showToast("error", "The dashboard could not be reached. Check the connection and try again.");
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

// Row action menus (<details class="menu">): one open at a time; a click outside, a chosen
// action or Escape closes it. Without JavaScript the native <details> still opens and closes.
(function () {
  "use strict";
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    var menu = event.target.closest("details.menu");
    var chosen = event.target.closest(".menu-items a, .menu-items button");
    closeMenus(chosen ? null : menu);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeMenus(null);
  });
})();

// A new scheduled sync starts in the admin's own time zone (the browser's IANA name); without
// JavaScript the field keeps the server's default and the admin types one.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone) return;
    document.querySelectorAll("input[data-browser-time-zone]").forEach(function (input) {
      input.value = zone;
    });
  });
})();
