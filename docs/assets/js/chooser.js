// The decision guide's chooser: re-ranks the frameworks in the browser from the
// numbers embedded in the page (no request leaves it). Same rule as
// pipeline/guide.py recommend(): weighted mean of per-criterion scores over the
// criteria a framework has a value for; a required criterion without one counts 0;
// frameworks with values on fewer criteria than the most covered one rank after.
(function () {
  function rank(criteria, weights, frameworks) {
    var out = [];
    frameworks.forEach(function (fw) {
      var total = 0, wsum = 0, covered = 0;
      criteria.forEach(function (c, i) {
        var w = weights[i];
        if (!(w > 0)) return;
        var s = c.scores[fw.name];
        if (s === undefined && c.required) s = 0;
        if (s === undefined) return;
        total += w * s; wsum += w; covered += 1;
      });
      if (wsum > 0) out.push({ label: fw.label, score: total / wsum, covered: covered });
    });
    var most = 0;
    out.forEach(function (r) { most = Math.max(most, r.covered); });
    out.forEach(function (r) { r.partial = r.covered < most; });
    out.sort(function (a, b) { return (a.partial - b.partial) || (b.score - a.score) || (b.covered - a.covered); });
    return out;
  }

  function setup(root) {
    var data = JSON.parse(root.querySelector("script.guide-data").textContent);
    var scenarioSel = root.querySelector("select.guide-scenario");
    var machineSel = root.querySelector("select.guide-machine");
    var critBox = root.querySelector(".guide-criteria");
    var result = root.querySelector(".guide-result");
    data.scenarios.forEach(function (s, i) { scenarioSel.add(new Option(s.title, i)); });
    data.machines.forEach(function (m, i) { machineSel.add(new Option(m, i)); });

    function current() {
      var s = data.scenarios[scenarioSel.value];
      return { s: s, m: s.machines[machineSel.value] };
    }
    function drawCriteria() {
      var cur = current();
      critBox.replaceChildren();
      if (!cur.m) return;
      cur.m.criteria.forEach(function (c, i) {
        var row = document.createElement("label");
        row.className = "guide-criterion";
        var input = document.createElement("input");
        input.type = "number"; input.min = "0"; input.max = "5"; input.step = "1";
        input.value = c.weight; input.dataset.index = i;
        input.setAttribute("aria-label", "weight of " + c.label + ", 0 to 5");
        input.addEventListener("input", drawResult);
        row.appendChild(input);
        var text = document.createElement("span");
        text.textContent = c.label + (c.not_measurable ? " (not measurable here)" : "");
        row.appendChild(text);
        critBox.appendChild(row);
      });
      drawResult();
    }
    function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }
    // a weight is a whole number from 0 to 5; anything else is refused, visibly
    function readWeights() {
      var bad = [];
      var weights = Array.prototype.map.call(critBox.querySelectorAll("input"), function (el) {
        var w = Number(el.value);
        var ok = el.value.trim() !== "" && Number.isInteger(w) && w >= 0 && w <= 5;
        el.setAttribute("aria-invalid", ok ? "false" : "true");
        if (!ok) bad.push(el.value.trim() === "" ? "an empty weight" : el.value);
        return w;
      });
      return { weights: weights, bad: bad };
    }
    function drawResult() {
      var cur = current();
      if (!cur.m) { result.textContent = "No results on this machine."; return; }
      var read = readWeights();
      result.replaceChildren();
      if (read.bad.length) {
        var refused = document.createElement("p");
        refused.className = "guide-refused";
        refused.setAttribute("role", "alert");
        refused.textContent = "Weights are whole numbers from 0 to 5; " + read.bad.join(", ") +
          (read.bad.length === 1 ? " is" : " are") + " not. Nothing is ranked until every weight is.";
        result.appendChild(refused);
        return;
      }
      var ranking = rank(cur.m.criteria, read.weights, data.frameworks);
      if (!ranking.length) { result.textContent = "No criterion with a measured value is selected."; return; }
      var full = ranking.filter(function (r) { return !r.partial; });
      var partial = ranking.filter(function (r) { return r.partial; });
      var lacking = cur.m.criteria.filter(function (c, i) { return c.not_measurable && read.weights[i] > 0; });
      // text nodes only: labels, machine ids and scenario ids come from data files
      var head = document.createElement("p");
      var strong = document.createElement("strong");
      strong.textContent = lacking.length ? "Not answered on this hardware" : "Recommended: " + full[0].label;
      head.appendChild(strong);
      head.appendChild(document.createTextNode(lacking.length
        ? ": " + lacking[0].not_measurable + ". The ranking below uses the other criteria only. "
        : " on " + cur.m.machine_id + " (score " + full[0].score.toFixed(2) + "; 1.00 = best on every criterion). "));
      var link = document.createElement("a");
      link.href = "#" + encodeURIComponent(cur.s.id);
      link.textContent = "Evidence for each criterion";
      head.appendChild(link);
      head.appendChild(document.createTextNode("."));
      result.appendChild(head);
      var list = document.createElement("ol");
      full.forEach(function (r) {
        var li = document.createElement("li");
        li.textContent = r.label + ": " + r.score.toFixed(2) + " (" + plural(r.covered, "criterion", "criteria") + ")";
        list.appendChild(li);
      });
      result.appendChild(list);
      if (partial.length) {
        var note = document.createElement("p");
        note.textContent = "Not ranked, partly measured: " + partial.map(function (r) {
          return r.label + " (" + r.score.toFixed(2) + " on " + r.covered + " of " +
            plural(full[0].covered, "criterion", "criteria") + ")";
        }).join("; ") + ".";
        result.appendChild(note);
      }
    }
    scenarioSel.addEventListener("change", drawCriteria);
    machineSel.addEventListener("change", drawCriteria);
    drawCriteria();
    root.dataset.ready = "true";
  }

  function init() { document.querySelectorAll(".guide-chooser").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
