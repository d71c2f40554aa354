(function () {
  "use strict";
  // Click a column header of the dataset table to sort by it (again: reverse).
  document.querySelectorAll("table.sortable-table").forEach(function (table) {
    const heads = Array.from(table.querySelectorAll("th"));
    heads.forEach(function (th, col) {
      th.addEventListener("click", function () {
        const desc = !th.classList.contains("sorted-desc");
        heads.forEach(function (h) { h.classList.remove("sorted-asc", "sorted-desc"); });
        th.classList.add(desc ? "sorted-desc" : "sorted-asc");
        const body = table.tBodies[0];
        const rows = Array.from(body.rows).filter(function (r) { return r.cells.length > 1; });
        const key = function (row) {
          const cell = row.cells[col];
          const n = cell.dataset.sort;
          return n === undefined ? cell.textContent.trim() : parseFloat(n);
        };
        rows.sort(function (a, b) {
          const x = key(a), y = key(b);
          const c = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
          return desc ? -c : c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  const config = JSON.parse(document.getElementById("report-config").textContent);
  document.body.dataset.ready = "1";
  console.log("quality report ready: " + config.period + ", " + config.datasets + " datasets");
})();
