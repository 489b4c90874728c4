// After a failed submit: move the focus to the error summary, so keyboard and screen-reader
// users start at the list of what to fix (without JavaScript the summary is the page's first content).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
});
