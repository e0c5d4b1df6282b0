// Field visits (docs/field-sales.md): a check-in or check-out sends the phone's position and
// clock when the browser gives them. Declining, no GPS or no answer within the timeout
// still checks in, without a position. Loaded only by the visit pages; no inline script.
(function () {
  "use strict";
  var TIMEOUT_MS = 8000;

  function put(form, name, value) {
    var input = form.querySelector("input[name='" + name + "']");
    if (input) { input.value = value === null || value === undefined ? "" : String(value); }
  }

  document.addEventListener("htmx:confirm", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-gx-geo]")) { return; }
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    var sent = false;
    function send(position) {
      if (sent) { return; }
      sent = true;
      put(form, "client_time", new Date().toISOString());
      if (position && position.coords) {
        put(form, "latitude", position.coords.latitude.toFixed(6));
        put(form, "longitude", position.coords.longitude.toFixed(6));
        put(form, "accuracy", Math.round(position.coords.accuracy));
      }
      event.detail.issueRequest(true);
    }
    if (button) {
      button.disabled = true;
      if (form.dataset.gxWait) { button.textContent = form.dataset.gxWait; }
    }
    if (!navigator.geolocation) { send(null); return; }
    navigator.geolocation.getCurrentPosition(send, function () { send(null); },
      { enableHighAccuracy: true, timeout: TIMEOUT_MS, maximumAge: 60000 });
    // a permission prompt left unanswered never calls back: go on without a position
    window.setTimeout(function () { send(null); }, TIMEOUT_MS + 1000);
  });

  // the card comes back with the error in it: show it rather than drop it
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
