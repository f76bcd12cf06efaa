// The grid's filter: papers (rows) and models (columns) by a part of their name, typed in the
// boxes or given in the address (#paper=...&model=...). Papers on the grid's other pages are
// listed from the page's own index. No network, no library; names are only ever set as text.
(function () {
  "use strict";
  var LISTED = 50;
  var root = document.body.getAttribute("data-root") || "";

  function has(text, part) {
    return text.toLowerCase().indexOf(part) !== -1;
  }

  function elsewhere(section, paper) {
    var box = section.querySelector(".elsewhere");
    var page = Number(section.getAttribute("data-page"));
    var found = [];
    box.textContent = "";
    if (!paper) return;
    JSON.parse(section.querySelector(".papers").textContent).forEach(function (entry) {
      if (entry[2] !== page && has(entry[0], paper)) found.push(entry);
    });
    if (!found.length) return;
    box.appendChild(document.createTextNode("On other pages: "));
    found.slice(0, LISTED).forEach(function (entry, i) {
      var link = document.createElement("a");
      link.href = root + entry[1];
      link.textContent = entry[0];
      if (i) box.appendChild(document.createTextNode(", "));
      box.appendChild(link);
    });
    if (found.length > LISTED) box.appendChild(document.createTextNode(" and " + (found.length - LISTED) + " more"));
  }

  function apply(section) {
    var paper = section.querySelector(".filter-paper").value.trim().toLowerCase();
    var model = section.querySelector(".filter-model").value.trim().toLowerCase();
    var rows = section.querySelector("table.grid").rows;
    var columns = [true], papers = 0, models = 0, r, c;
    for (c = 1; c < rows[0].cells.length; c++) {
      columns.push(has(rows[0].cells[c].textContent, model));
      models += columns[c] ? 1 : 0;
    }
    for (r = 0; r < rows.length; r++) {
      var shown = r === 0 || has(rows[r].cells[0].textContent, paper);
      rows[r].hidden = !shown;
      papers += shown && r > 0 ? 1 : 0;
      for (c = 1; c < rows[r].cells.length; c++) rows[r].cells[c].hidden = !columns[c];
    }
    section.querySelector(".count").textContent = "on this page: papers " + papers + ", models " + models;
    elsewhere(section, paper);
  }

  var wanted = new URLSearchParams(location.hash.slice(1));
  document.querySelectorAll("section.task").forEach(function (section) {
    ["paper", "model"].forEach(function (what) {
      var input = section.querySelector(".filter-" + what);
      input.value = wanted.get(what) || "";
      input.addEventListener("input", function () { apply(section); });
    });
    if (wanted.has("paper") || wanted.has("model")) apply(section);
  });
  document.documentElement.setAttribute("data-filter", "ready");
})();
