// Render every inline Vega-Lite spec with the local, pinned vega-embed; the SVG
// rendered at build time stays in place if anything here fails.
(function () {
  function render() {
    document.querySelectorAll("div.vega-chart").forEach(function (box) {
      if (box.dataset.rendered) return;
      var script = box.querySelector("script.vega-spec");
      if (!script || typeof vegaEmbed !== "function") return;
      var target = document.createElement("div");
      target.className = "vega-target";
      box.appendChild(target);
      vegaEmbed(target, JSON.parse(script.textContent), { actions: false, renderer: "svg" })
        .then(function () {
          box.dataset.rendered = "true";
          var fallback = box.querySelector("img.vega-fallback");
          if (fallback) fallback.remove();
        })
        .catch(function (err) {
          target.remove();
          console.warn("chart " + box.dataset.chart + " kept its static SVG:", err);
        });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
