// The opening-hours editor on the staff edit form. The plain text field stays the form's value
// and works without this script; the editor only fills it in. What the days, times and Chinese
// phrases mean is decided on the server (/admin/hours/preview, core/hours_input): this file
// only gathers what was picked and shows the answer. Text goes in through textContent only.
(function () {
  "use strict";
  var input = document.getElementById("opening_hours");
  var editor = document.getElementById("hours-editor");
  var config = document.getElementById("yz-hours");
  if (!input || !editor || !config || !window.fetch || !("content" in document.createElement("template"))) return;
  var cfg = JSON.parse(config.textContent);
  var rowsBox = document.getElementById("hours-rows");
  var phrase = document.getElementById("hours-phrase");
  var phOff = document.getElementById("hours-ph-off");
  var words = document.getElementById("hours-words");
  var osm = document.getElementById("hours-osm");
  var problem = document.getElementById("hours-problem");
  var rowTemplate = document.getElementById("hours-row-template");
  var rangeTemplate = document.getElementById("hours-range-template");
  var asked = 0;
  var timer = null;

  function addRange(row, from, to) {
    var range = rangeTemplate.content.firstElementChild.cloneNode(true);
    range.querySelector(".hours-from").value = from || "";
    range.querySelector(".hours-to").value = to === "24:00" ? "00:00" : to || "";
    row.querySelector(".hours-ranges").appendChild(range);
    return range;
  }

  function addRow(days, ranges) {
    var row = rowTemplate.content.firstElementChild.cloneNode(true);
    (days || []).forEach(function (day) {
      var box = row.querySelector('.hours-days input[value="' + day + '"]');
      if (box) box.checked = true;
    });
    var allDay = ranges && ranges.length === 1 && ranges[0][0] === "00:00" && ranges[0][1] === "24:00";
    row.querySelector(".hours-24").checked = !!allDay;
    if (!allDay) (ranges && ranges.length ? ranges : [["", ""]]).forEach(function (r) { addRange(row, r[0], r[1]); });
    sync24(row);
    rowsBox.appendChild(row);
    return row;
  }

  function sync24(row) {
    var on = row.querySelector(".hours-24").checked;
    row.querySelector(".hours-ranges").hidden = on;
    row.querySelector(".hours-add-range").hidden = on;
  }

  // The rows as the server's form: {"groups": [{"days": [...], "ranges": [[from, to]]}], "holidays"}
  function collect() {
    var groups = [];
    rowsBox.querySelectorAll(".hours-row").forEach(function (row) {
      var days = [];
      row.querySelectorAll(".hours-days input:checked").forEach(function (box) { days.push(box.value); });
      if (!days.length) return;
      var ranges = [];
      if (row.querySelector(".hours-24").checked) {
        ranges.push(["00:00", "24:00"]);
      } else {
        row.querySelectorAll(".hours-range").forEach(function (range) {
          var from = range.querySelector(".hours-from").value, to = range.querySelector(".hours-to").value;
          if (from && to) ranges.push([from, to]);
        });
        if (!ranges.length) return; // times not picked yet
      }
      groups.push({ days: days, ranges: ranges });
    });
    return { groups: groups, holidays: phOff.checked ? "off" : null };
  }

  function show(body, fillRows) {
    if (!body.ok) {
      problem.textContent = body.error;
      problem.hidden = false;
      return;
    }
    problem.hidden = true;
    input.value = body.osm;
    words.textContent = body.words;
    osm.textContent = body.osm;
    if (!fillRows) return;
    rowsBox.textContent = "";
    phOff.checked = false;
    if (!body.rows) {
      if (body.osm) {
        problem.textContent = cfg.t.unreadable;
        problem.hidden = false;
      }
      addRow([], []);
      return;
    }
    body.rows.forEach(function (r) {
      if (r.days.length === 1 && r.days[0] === "PH" && !r.ranges.length) phOff.checked = true;
      else addRow(r.days, r.ranges);
    });
    if (!rowsBox.children.length) addRow([], []);
  }

  function ask(query, fillRows) {
    var mine = ++asked;
    editor.setAttribute("aria-busy", "true");
    fetch(cfg.url + "?" + query + "&lang=" + encodeURIComponent(cfg.lang), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (r) { return r.json(); })
      .then(function (body) { if (mine === asked) show(body, fillRows); })
      .catch(function () {
        if (mine !== asked) return;
        problem.textContent = cfg.t.offline;
        problem.hidden = false;
      })
      .then(function () { if (mine === asked) editor.removeAttribute("aria-busy"); });
  }

  function fromRows() {
    var form = collect();
    if (!form.groups.length && !form.holidays) return; // nothing picked yet: keep the text
    phrase.value = ""; // the rows say it now
    ask("form=" + encodeURIComponent(JSON.stringify(form)), false);
  }

  function fromText(text) {
    if (!text.trim()) return;
    ask("text=" + encodeURIComponent(text), true);
  }

  function later(fn) {
    clearTimeout(timer);
    timer = setTimeout(fn, 300);
  }

  editor.addEventListener("click", function (e) {
    var button = e.target.closest("button");
    if (!button) return;
    var row = button.closest(".hours-row");
    if (button.id === "hours-add-row") {
      addRow([], []).querySelector(".hours-days input").focus();
      return;
    }
    if (button.classList.contains("hours-add-range")) {
      addRange(row).querySelector(".hours-from").focus();
      return;
    }
    if (button.classList.contains("hours-remove-range")) {
      button.closest(".hours-range").remove();
    } else if (button.classList.contains("hours-remove-row")) {
      row.remove();
      if (!rowsBox.children.length) addRow([], []);
    }
    fromRows();
  });
  editor.addEventListener("change", function (e) {
    if (e.target === phrase) return;
    var row = e.target.closest(".hours-row");
    if (row && e.target.classList.contains("hours-24")) sync24(row);
    fromRows();
  });
  phrase.addEventListener("input", function () { later(function () { fromText(phrase.value); }); });
  input.addEventListener("change", function () { fromText(input.value); });

  editor.hidden = false;
  if (input.value.trim()) fromText(input.value);
  else addRow([], []);
})();
