// The kiosk's ticket page: a print button where printing is possible, and back to the
// start after a while so the next person finds the kiosk ready ("Länger anzeigen" stops it).
(function () {
  "use strict";
  var button = document.getElementById("print");
  if (button && window.print) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  }
  var note = document.getElementById("back-note");
  if (!note) { return; }
  note.hidden = false;
  var timer = setTimeout(function () { window.location.assign(note.dataset.start); },
                         Number(note.dataset.seconds) * 1000);
  document.getElementById("stay").addEventListener("click", function () {
    clearTimeout(timer);
    note.hidden = true;
  });
}());
