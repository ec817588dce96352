// A form posted after the session had ended, filled in again after signing in
// (mcnet/keptforms.py): the page's POST form that knows most of the kept field names.
(function () {
  "use strict";
  var data = document.getElementById("mcnet-kept-form");
  if (!data) { return; }
  var fields = JSON.parse(data.textContent);
  var names = Object.keys(fields);
  var best = null;
  var bestScore = 0;
  document.querySelectorAll("main form").forEach(function (form) {
    if ((form.getAttribute("method") || "").toLowerCase() !== "post") { return; }
    var score = names.filter(function (name) { return form.elements.namedItem(name); }).length;
    if (score > bestScore) { best = form; bestScore = score; }
  });
  if (!best) { return; }
  names.forEach(function (name) {
    var values = fields[name];
    var index = 0;
    best.querySelectorAll("[name=\"" + window.CSS.escape(name) + "\"]").forEach(function (el) {
      if (el.type === "hidden" || el.type === "file" || el.type === "password") { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.value) !== -1;
      } else if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.options, function (option) {
          option.selected = values.indexOf(option.value) !== -1;
        });
      } else {
        el.value = values[index] !== undefined ? values[index] : "";
        index += 1;
      }
    });
  });
})();
