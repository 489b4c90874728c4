// The day view reloads its list every minute (new bookings, kiosk check-ins) without a
// page reload: only the list is replaced, and not while the clerk is typing in a field
// of the list. Without JavaScript the "Neu laden" link does the same by hand.
(function () {
  "use strict";
  var list = document.getElementById("day-list");
  if (!list) { return; }
  var seconds = parseInt(list.getAttribute("data-refresh"), 10) || 60;
  function busy() {
    var el = document.activeElement;
    return el && list.contains(el) && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT");
  }
  function refresh() {
    if (busy() || document.hidden) { return; }
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (html) {
        if (!html || busy()) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("day-list");
        if (fresh) { list.innerHTML = fresh.innerHTML; }
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }
  window.setInterval(refresh, seconds * 1000);
}());
