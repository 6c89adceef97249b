// Keyboard-first counter entry and the customer lookup (counter and complaint forms).
// Loaded as a file because the CSP forbids inline scripts; the forms work without it.
(function () {
  "use strict";

  var TYPING_TYPES = ["text", "number", "search", "email", "tel", "url", "password", "date", "month"];

  function isTyping(element) {
    if (!element || !element.tagName) return false;
    if (element.tagName === "TEXTAREA" || element.tagName === "SELECT" || element.isContentEditable) return true;
    return element.tagName === "INPUT" && TYPING_TYPES.indexOf(element.type) >= 0;
  }

  // Number keys: 1–9 choose the business type; inside the rating row, 1–5 choose the rating.
  // Never while typing in a field, where digits are minutes or text.
  document.addEventListener("keydown", function (event) {
    var form = document.querySelector("[data-counter-form]");
    if (!form || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (event.key === "Enter" && target.form === form && target.tagName === "INPUT" &&
        (target.type === "radio" || target.type === "checkbox")) {
      // Browsers do not submit from a radio or checkbox on Enter; the counter form promises to.
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (!/^[1-9]$/.test(event.key) || isTyping(target)) return;
    var group = target.closest ? target.closest("[data-accelerator-group]") : null;
    var name = group && group.getAttribute("data-accelerator-group") === "rating" ? "rating" : "business_type";
    var choice = form.querySelector('input[name="' + name + '"][data-accelerator="' + event.key + '"]');
    if (!choice) return;
    event.preventDefault();
    choice.checked = true;
    // Focus follows the choice, so Tab continues from the group just answered.
    choice.focus();
    choice.dispatchEvent(new Event("change", { bubbles: true }));
  });

  function lookupParts(container) {
    return {
      value: container.querySelector("[data-lookup-value]"),
      chip: container.querySelector("[data-lookup-chip]"),
      label: container.querySelector("[data-lookup-label]"),
      input: container.querySelector("[data-lookup-input]"),
      results: container.querySelector("[data-lookup-results]")
    };
  }

  function pick(container, button) {
    var parts = lookupParts(container);
    parts.value.value = button.getAttribute("data-lookup-pick");
    parts.label.textContent = button.getAttribute("data-lookup-text");
    parts.chip.classList.remove("d-none");
    parts.input.value = "";
    parts.results.innerHTML = "";
    parts.input.focus();
  }

  function clear(container) {
    var parts = lookupParts(container);
    parts.value.value = "";
    parts.label.textContent = "";
    parts.chip.classList.add("d-none");
    parts.input.focus();
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    var button = event.target.closest("[data-lookup-pick]");
    if (button) { pick(button.closest("[data-lookup]"), button); return; }
    var remove = event.target.closest("[data-lookup-clear]");
    if (remove) clear(remove.closest("[data-lookup]"));
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target.closest || event.ctrlKey || event.metaKey || event.altKey) return;
    var container = target.closest("[data-lookup]");
    if (!container) return;
    var parts = lookupParts(container);
    var inInput = target === parts.input;
    var onResult = target.hasAttribute("data-lookup-pick");
    if (event.key === "Enter" && inInput) {
      // Enter in the search box picks the first match; it never submits half a form.
      event.preventDefault();
      var first = parts.results.querySelector("[data-lookup-pick]");
      if (first) pick(container, first);
    } else if (event.key === "ArrowDown" && (inInput || onResult)) {
      var next = inInput ? parts.results.querySelector("[data-lookup-pick]") : target.nextElementSibling;
      if (next) { event.preventDefault(); next.focus(); }
    } else if (event.key === "ArrowUp" && onResult) {
      event.preventDefault();
      (target.previousElementSibling || parts.input).focus();
    } else if (event.key === "Escape" && (inInput || onResult)) {
      parts.results.innerHTML = "";
      parts.input.focus();
    }
  });
})();
