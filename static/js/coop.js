// Small progressive enhancements; every page works without them.
document.addEventListener("keydown", function (event) {
  // Ctrl/⌘+Enter submits the focused form (the teller's keyboard-first entry relies on it).
  if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
    var form = event.target && event.target.form;
    if (form) { event.preventDefault(); form.requestSubmit(); }
  }
});
