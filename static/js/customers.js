// Customer list: a number typed into the name filter would end up in the address bar (a GET
// form). Move it to the find box, which posts it, before the browser builds the URL.
(function () {
  var filter = document.getElementById("customer-filter");
  var find = document.getElementById("customer-find");
  if (!filter || !find) { return; }
  var looksLikeNumber = /[0-9]{7,}|[0-9A-Za-z]{17,}/;
  filter.addEventListener("submit", function (event) {
    var name = filter.querySelector("[name=q]");
    if (!name || !looksLikeNumber.test(name.value)) { return; }
    event.preventDefault();
    find.querySelector("[name=number]").value = name.value.trim();
    name.value = "";
    find.requestSubmit();
  });
})();
