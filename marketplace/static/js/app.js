/* Progressive enhancement only: every page works without this file.
   Loaded with <script src="…/app.js" defer>; no inline code (CSP). */
(function () {
  "use strict";

  /* (a) Confirm before submitting: <form data-confirm="Cancel this gig?"> or a submit button with data-confirm. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) ||
      (form && form.getAttribute && form.getAttribute("data-confirm"));
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  /* (b) Long-running job progress: <div data-poll-url="/…/progress.json"><progress max="100"></progress>
     <span data-progress-text></span></div>. Reloads the page once the job is done or failed. */
  var POLL_MS = 1500;
  var FINAL_STATES = { done: true, failed: true };

  function describe(data) {
    var text = data.percent + "%";
    if (typeof data.total === "number" && data.total > 0) {
      text += " \u2014 " + Number(data.processed || 0).toLocaleString() + " of " + data.total.toLocaleString();
    }
    if (data.state) {
      text += " (" + String(data.state).replace(/_/g, " ") + ")";
    }
    return text;
  }

  function startPolling(box) {
    var url = box.getAttribute("data-poll-url");
    var bar = box.querySelector("progress");
    var label = box.querySelector("[data-progress-text]");
    if (label && !label.hasAttribute("aria-live")) {
      label.setAttribute("aria-live", "polite");
    }
    var failures = 0;

    function schedule() {
      // Back off gently while the server is unreachable, up to 15 s between tries.
      window.setTimeout(poll, Math.min(POLL_MS * Math.pow(2, failures), 15000));
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          var percent = Math.max(0, Math.min(100, Number(data.percent) || 0));
          data.percent = percent;
          if (bar) {
            bar.max = 100;
            bar.value = percent;
            bar.textContent = percent + "%";
          }
          if (label) { label.textContent = describe(data); }
          if (FINAL_STATES[data.state]) {
            window.location.reload();
          } else {
            schedule();
          }
        })
        .catch(function () {
          failures = Math.min(failures + 1, 4);
          schedule();
        });
    }

    schedule();
  }

  /* (c) Countdowns: <span data-countdown="2025-06-01T14:00:00Z">expires at 14:00</span>
     becomes "1 h 23 min left"; data-countdown-expired overrides the text shown afterwards. */
  function remainingText(ms) {
    var minutes = Math.floor(ms / 60000);
    if (minutes < 1) { return "less than a minute left"; }
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days > 0) { return days + " d " + hours + " h left"; }
    if (hours > 0) { return hours + " h " + mins + " min left"; }
    return mins + " min left";
  }

  function updateCountdowns(nodes) {
    var now = Date.now();
    nodes.forEach(function (node) {
      var deadline = node.getAttribute("data-countdown-ms");
      if (deadline === null) {
        var parsed = Date.parse(node.getAttribute("data-countdown"));
        if (isNaN(parsed)) { return; }
        node.setAttribute("data-countdown-ms", String(parsed));
        if (!node.hasAttribute("title")) { node.setAttribute("title", node.textContent.trim()); }
        deadline = parsed;
      }
      var left = Number(deadline) - now;
      node.textContent = left > 0 ? remainingText(left) : (node.getAttribute("data-countdown-expired") || "expired");
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-poll-url]"), startPolling);
    var countdowns = Array.prototype.slice.call(document.querySelectorAll("[data-countdown]"));
    if (countdowns.length) {
      updateCountdowns(countdowns);
      window.setInterval(function () { updateCountdowns(countdowns); }, 30000);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
