// Progress of a generated document (templates/printing/detail.html): polls the JSON status and
// updates the page; reloads once the document is ready or failed, so the server renders the
// download link or the error with its retry button. Without JavaScript, <noscript> reloads.
(function () {
  "use strict";
  var box = document.getElementById("document-status");
  if (!box || box.getAttribute("data-finished") === "true") { return; }
  var url = box.getAttribute("data-status-url");
  var state = box.getAttribute("data-state");
  var delay = 1000;

  function field(name) { return box.querySelector('[data-field="' + name + '"]'); }

  function show(status) {
    var label = field("label");
    if (label && label.textContent !== status.label) { label.textContent = status.label; }
    var bar = field("progress");
    if (bar) { bar.max = status.total; bar.value = status.done; bar.textContent = status.percent + "%"; }
    var count = field("count");
    if (count) { count.textContent = status.done + " / " + status.total; }
    var waiting = field("waiting");
    if (waiting) { waiting.hidden = !status.waiting_for_worker; }
    var resume = field("resume");
    if (resume) { resume.hidden = !status.waiting_to_resume; }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (status) {
        show(status);
        if (status.finished || status.state !== state && (status.state === "ready" || status.state === "failed")) {
          window.location.reload();
          return;
        }
        state = status.state;
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 10000);  // the server is busy or restarting: back off
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
}());
