// 「全員を選択」 for a long list of checkboxes (the attendees of an education session, 第7条;
// the lines of an attestation): one checkbox ticks or clears every box of the list and shows
// how many are ticked. The boxes carry data-select-all="<its label>"; without script the
// list works as it is. No inline script: loaded with defer (CSP script-src 'self').
(function () {
  "use strict";

  function setup(boxes, label) {
    var list = document.getElementById(boxes[0].id.replace(/_\d+$/, "")) || boxes[0].parentNode;
    var wrapper = document.createElement("p");
    wrapper.className = "select-all";
    var toggle = document.createElement("input");
    toggle.type = "checkbox";
    toggle.id = list.id ? list.id + "_all" : boxes[0].name + "_all";
    var text = document.createElement("label");
    text.htmlFor = toggle.id;
    text.textContent = label;
    var count = document.createElement("span");
    count.className = "muted";
    count.setAttribute("role", "status");
    count.setAttribute("aria-live", "polite");
    wrapper.append(toggle, text, " ", count);
    list.parentNode.insertBefore(wrapper, list);

    function refresh() {
      var ticked = boxes.filter(function (b) { return b.checked; }).length;
      toggle.checked = ticked === boxes.length;
      toggle.indeterminate = ticked > 0 && ticked < boxes.length;
      count.textContent = "（" + ticked + " / " + boxes.length + "）";
    }
    toggle.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = toggle.checked; });
      refresh();
    });
    boxes.forEach(function (b) { b.addEventListener("change", refresh); });
    refresh();
  }

  function init() {
    var groups = {};
    document.querySelectorAll("input[type=checkbox][data-select-all]").forEach(function (box) {
      (groups[box.name] = groups[box.name] || []).push(box);
    });
    Object.keys(groups).forEach(function (name) {
      setup(groups[name], groups[name][0].getAttribute("data-select-all"));
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
