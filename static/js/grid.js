// Grid pages: small enhancements only; every page works without them.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-grid-print]");
  if (button) { window.print(); }
});
