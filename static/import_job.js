// The import job page: polls the job's state (JSON) and shows its phase and progress; when the
// job ends the page is loaded again, which renders the result. Without JavaScript the page
// refreshes itself (a <noscript> meta refresh) and offers a "refresh" link.
(function () {
  "use strict";
  var page = document.getElementById("import-job");
  if (!page || page.dataset.running !== "yes") return;
  var phase = document.getElementById("job-phase");
  var progress = document.getElementById("job-progress");
  var bar = document.getElementById("job-bar");
  var link = document.getElementById("job-refresh");
  if (link) link.hidden = true;

  function show(state) {
    phase.textContent = state.phase_label;
    progress.textContent = state.progress;
    if (state.total) {
      bar.max = state.total;
      bar.value = state.done;
    } else {
      bar.removeAttribute("value");
    }
  }

  function poll() {
    fetch(page.dataset.state, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (state.running) setTimeout(poll, 700);
        else window.location.reload();
      })
      .catch(function () {
        if (link) link.hidden = false;
        setTimeout(poll, 3000);
      });
  }
  setTimeout(poll, 300);
})();
