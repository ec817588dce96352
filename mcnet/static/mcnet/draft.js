// A form marked data-keep-draft="<key>" keeps what was typed in this browser tab
// (sessionStorage: gone when the tab closes, never sent anywhere) so that going to MCS to
// change a password and coming back, or reloading, loses nothing. Sent, it is forgotten.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-keep-draft]");
  Array.prototype.forEach.call(forms, function (form) {
    var key = "mcnet-draft:" + form.getAttribute("data-keep-draft");
    var store;
    try { store = window.sessionStorage; } catch (e) { return; }
    if (!store) { return; }

    function fields() {
      return Array.prototype.filter.call(form.elements, function (el) {
        return el.name && el.name !== "csrfmiddlewaretoken" && el.type !== "hidden" &&
          el.type !== "file" && el.type !== "submit" && el.type !== "password";
      });
    }

    function save() {
      var data = {};
      fields().forEach(function (el) {
        if (el.type === "checkbox" || el.type === "radio") {
          data[el.name + "\u0000" + el.value] = el.checked;
        } else {
          data[el.name] = el.value;
        }
      });
      try { store.setItem(key, JSON.stringify(data)); } catch (e) { /* full: keep going */ }
    }

    var saved = null;
    try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
    // A page the server sent back with errors carries what was posted: that wins.
    var shownAgain = form.querySelector(".errorlist") !== null;
    if (saved && !shownAgain) {
      fields().forEach(function (el) {
        if (el.type === "checkbox" || el.type === "radio") {
          var mark = el.name + "\u0000" + el.value;
          if (Object.prototype.hasOwnProperty.call(saved, mark)) { el.checked = saved[mark]; }
        } else if (Object.prototype.hasOwnProperty.call(saved, el.name) && !el.value) {
          el.value = saved[el.name];
        }
      });
      var note = document.createElement("p");
      note.className = "message";
      note.setAttribute("role", "status");
      note.textContent = form.getAttribute("data-draft-restored") || "前回入力した内容を復元しました。";
      form.insertBefore(note, form.firstChild);
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    form.addEventListener("submit", function () { store.removeItem(key); });
  });
}());
