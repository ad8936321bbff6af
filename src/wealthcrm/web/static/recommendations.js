/* Recommendations: let htmx swap in the panel's (and the approvals page's) 4xx answers, which name the
   problem (a blocked sale, a missing reason), instead of silently keeping the old content. */
(function () {
  "use strict";
  if (window.wealthcrmRecommendations) {
    return; // the panel is swapped in again after each action: register once
  }
  window.wealthcrmRecommendations = true;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var status = detail.xhr ? detail.xhr.status : 0;
    var target = detail.target;
    if (status >= 400 && status < 500 && target && target.closest && target.closest("[data-reco-panel]")) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });
})();
