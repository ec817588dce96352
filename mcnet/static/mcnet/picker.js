// Search-as-you-type for mcnet.picker.SearchPicker: matches come from the widget's same-origin
// JSON URL and are added as unchecked checkboxes; without this script the widget's own button
// searches on the server. Loaded with defer (CSP script-src 'self').
(function () {
  "use strict";

  function setup(picker) {
    var url = picker.getAttribute("data-picker-url");
    var name = picker.getAttribute("data-picker-name");
    var list = picker.querySelector("div[id]");
    var input = picker.querySelector(".picker-search input");
    var button = picker.querySelector(".picker-search button");
    var status = picker.querySelector(".picker-status");
    var timer = null;
    var asked = "";

    function has(id) {
      return list.querySelector("input[value='" + id + "']") !== null;
    }

    function add(item) {
      var row = document.createElement("div");
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.name = name;
      box.value = String(item.id);
      box.id = list.id + "_found_" + item.id;
      label.setAttribute("for", box.id);
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + item.label));
      row.appendChild(label);
      row.className = "picker-found";
      list.appendChild(row);
    }

    function search() {
      var query = input.value.trim();
      if (!query || query === asked) return;
      asked = query;
      fetch(url + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (input.value.trim() !== query) return; // typed on meanwhile
          // Unchecked matches of an earlier search make way for the new ones.
          list.querySelectorAll(".picker-found").forEach(function (row) {
            if (!row.querySelector("input").checked) row.remove();
          });
          var added = 0;
          data.results.forEach(function (item) {
            if (!has(item.id)) { add(item); added += 1; }
          });
          status.textContent = data.results.length
            ? "「" + query + "」に合う " + data.results.length + " 件を表示しています。チェックを入れて選んでください。"
            : "「" + query + "」に合うものは見つかりませんでした。";
          if (added === 0 && data.results.length) {
            status.textContent += "（すべて一覧にあります）";
          }
        })
        .catch(function () {
          asked = "";
          status.textContent = "検索できませんでした。「探す」を押してください。";
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 250);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); asked = ""; search(); }
    });
    button.addEventListener("click", function (event) {
      event.preventDefault();
      asked = "";
      search();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".picker[data-picker-url]").forEach(setup);
  });
})();
