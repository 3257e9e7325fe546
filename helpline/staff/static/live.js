// Swaps in the live panel every 5 seconds without reloading the page. Skipped while the
// tab is hidden or a control in the panel has the keyboard focus, so nobody loses their place.
(function () {
  "use strict";
  var panel = document.getElementById("live");
  var stamp = document.getElementById("updated");
  if (!panel) { return; }

  function later() { window.setTimeout(refresh, 5000); }

  function refresh() {
    if (document.hidden || panel.contains(document.activeElement)) { return later(); }
    fetch(panel.dataset.src, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        panel.innerHTML = html;
        stamp.textContent = "Updated " + new Date().toLocaleTimeString();
        stamp.classList.remove("stale");
      })
      .catch(function () {
        stamp.textContent = "Not updated since " + new Date().toLocaleTimeString() + ", retrying";
        stamp.classList.add("stale");
      })
      .then(later);
  }
  later();
})();
