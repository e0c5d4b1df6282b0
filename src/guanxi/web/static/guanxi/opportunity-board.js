/* The opportunity board: drag a card onto another column to move it. Dropping sets the
   card's own "Move to…" menu and submits its form, so drag and drop and the keyboard take
   the same path (htmx POST, the board comes back with new totals). Answers that carry a
   message or a dialog (409 changed by someone else, 422 a reason is needed, 403) are shown
   rather than dropped. */
(function () {
  "use strict";
  var dragged = null;

  function column(target) {
    return target && target.closest ? target.closest(".gx-column") : null;
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target && event.target.closest ? event.target.closest(".gx-card") : null;
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.id);
    card.classList.add("gx-dragging");
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("gx-dragging");
    dragged = null;
    document.querySelectorAll(".gx-drop").forEach(function (el) { el.classList.remove("gx-drop"); });
  });
  document.addEventListener("dragover", function (event) {
    var target = column(event.target);
    if (!target || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    target.classList.add("gx-drop");
  });
  document.addEventListener("dragleave", function (event) {
    var target = column(event.target);
    if (target && !target.contains(event.relatedTarget)) target.classList.remove("gx-drop");
  });
  document.addEventListener("drop", function (event) {
    var target = column(event.target);
    if (!target || !dragged) return;
    event.preventDefault();
    target.classList.remove("gx-drop");
    var form = dragged.querySelector("form.gx-move");
    var select = form && form.querySelector("select[name=stage]");
    if (!select || select.value === target.dataset.stage) return;
    select.value = target.dataset.stage;
    if (form.requestSubmit) form.requestSubmit(); else htmx.trigger(form, "submit");
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 409 || status === 422 || status === 403) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSwap", function () {
    var dialog = document.querySelector("#gx-dialog dialog[open]");
    if (dialog && dialog.showModal && !dialog.matches(":modal")) {
      // shown as a modal: above the board, focus kept inside, Escape closes it
      dialog.close();
      dialog.showModal();
    }
    if (dialog) {
      var field = dialog.querySelector("textarea, input:not([type=hidden])");
      if (field) field.focus();
    }
  });
})();
