// The kiosk's ticket page: a print button where printing is possible.
(function () {
  "use strict";
  var button = document.getElementById("print");
  if (button && window.print) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  }
}());
