// The claims overview: filter rows by verdict, article or framework, and sort by any
// column, offline, from the table's own text (no data leaves the page).
(function () {
  function text(cell) { return (cell.textContent || "").trim(); }
  function setup(box) {
    var table = box.querySelector("table");
    if (!table || box.dataset.ready) return;
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th"));
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    var column = function (name) { return heads.findIndex(function (h) { return text(h) === name; }); };
    var filters = [["Verdict", column("Verdict"), false], ["Article", column("Article"), false],
                   ["Framework", column("Frameworks"), true]];
    var bar = document.createElement("p");
    bar.className = "claims-filters";
    var selects = filters.map(function (f) {
      var values = {};
      rows.forEach(function (r) {
        var t = text(r.cells[f[1]]);
        (f[2] ? t.split(", ") : [t]).forEach(function (v) { if (v && v !== "\u2013") values[v] = true; });
      });
      var label = document.createElement("label");
      label.textContent = f[0] + " ";
      var select = document.createElement("select");
      select.add(new Option("all", ""));
      Object.keys(values).sort().forEach(function (v) { select.add(new Option(v, v)); });
      select.addEventListener("change", apply);
      label.appendChild(select);
      bar.appendChild(label);
      return select;
    });
    var count = document.createElement("span");
    count.className = "claims-count";
    bar.appendChild(count);
    box.insertBefore(bar, box.firstChild);
    function apply() {
      var shown = 0;
      rows.forEach(function (r) {
        var ok = filters.every(function (f, i) {
          var want = selects[i].value;
          if (!want) return true;
          var t = text(r.cells[f[1]]);
          return f[2] ? t.split(", ").indexOf(want) >= 0 : t === want || t.indexOf(want + " ") === 0;
        });
        r.hidden = !ok;
        if (ok) shown += 1;
      });
      count.textContent = shown + " of " + rows.length + " rows";
    }
    heads.forEach(function (h, i) {
      h.setAttribute("role", "button");
      h.tabIndex = 0;
      h.title = "Sort by this column";
      var sort = function () {
        var up = h.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (o) { o.removeAttribute("aria-sort"); });
        h.setAttribute("aria-sort", up ? "ascending" : "descending");
        var body = table.tBodies[0];
        rows.slice().sort(function (a, b) {
          var x = text(a.cells[i]), y = text(b.cells[i]);
          var nx = parseFloat(x.replace(/,/g, "")), ny = parseFloat(y.replace(/,/g, ""));
          var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return up ? c : -c;
        }).forEach(function (r) { body.appendChild(r); });
      };
      h.addEventListener("click", sort);
      h.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
    apply();
    box.dataset.ready = "true";
  }
  function init() { document.querySelectorAll(".claims-overview").forEach(setup); }
  if (window.document$ && typeof window.document$.subscribe === "function") window.document$.subscribe(init);
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
