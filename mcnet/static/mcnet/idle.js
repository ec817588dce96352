// The idle warning (art. 11 (4)(5)): two minutes before the session would end, offer to stay
// signed in. The server restarts its clock at most once a minute, so it may end the session up
// to a minute before this page's own count: the warning comes that much earlier.
(function () {
  "use strict";
  var box = document.getElementById("idle-warning");
  if (!box) { return; }
  var seconds = parseInt(box.getAttribute("data-idle-seconds"), 10);
  if (!(seconds > 0)) { return; }
  var WARN_BEFORE = 120;
  var SLACK = 60;
  var form = box.querySelector("form");
  var timer = null;

  function arm() {
    window.clearTimeout(timer);
    box.hidden = true;
    var wait = Math.max(0, seconds - SLACK - WARN_BEFORE) * 1000;
    timer = window.setTimeout(function () {
      box.hidden = false;
      form.querySelector("button").focus();
    }, wait);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (response.status === 204) { arm(); } else { form.submit(); }
    }, function () { form.submit(); });
  });
  arm();
})();
