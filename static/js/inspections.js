// Inspection form on the tablet: photo previews, and hints that follow the answers. The form
// works without this script; the server validates everything.
(function () {
  "use strict";

  function showThumbs(input) {
    var box = document.querySelector('[data-inspection-thumbs="' + input.id + '"]');
    if (!box) { return; }
    box.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      if (!/^image\//.test(file.type)) { return; }
      // A data: URL, because the content security policy allows no blob: images.
      var reader = new FileReader();
      reader.onload = function () {
        var img = document.createElement("img");
        img.src = reader.result;
        img.alt = file.name;
        img.setAttribute("data-testid", "photo-thumb");
        box.appendChild(img);
      };
      reader.readAsDataURL(file);
    });
  }

  function checkedValue(form, name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : "";
  }

  function sync(form) {
    var note = form.querySelector("[data-inspection-funds-note]");
    if (note) {
      var use = checkedValue(form, "funds_use");
      var needed = use === "partly" || use === "diverted";
      note.classList.toggle("border-start", needed);
      note.classList.toggle("border-warning", needed);
      note.classList.toggle("ps-2", needed);
    }
    var hint = form.querySelector("[data-inspection-risk-hint]");
    if (hint) { hint.hidden = checkedValue(form, "conclusion") !== "risk"; }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = target.closest && target.closest("[data-testid=inspection-form]");
    if (!form) { return; }
    if (target.type === "file") { showThumbs(target); }
    sync(form);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-testid=inspection-form]");
    if (form) { sync(form); }
  });
})();
