/* The Team page: a "select all" box over the customers to reassign (shown only with JavaScript). */
(function () {
  "use strict";
  var all = document.getElementById("pick-all");
  if (!all) {
    return;
  }
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input.pick-one"));
  all.hidden = false;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
  boxes.forEach(function (box) {
    box.addEventListener("change", function () {
      var checked = boxes.filter(function (b) { return b.checked; }).length;
      all.checked = checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    });
  });
})();
