// Render every inline Vega-Lite spec with the local, pinned vega-embed. The chart
// libraries (about 830 KB) are fetched only by pages that have a chart, from the
// folder beside this script, so the site still works from file:// and offline.
// Readers without JavaScript get the SVG rendered at build time (in <noscript>);
// if rendering fails here, that SVG is put in the chart's place.
(function () {
  var LIBRARIES = ["vega@6.4.0.min.js", "vega-lite@6.4.1.min.js", "vega-embed@7.3.0.min.js"];
  var here = document.currentScript ? document.currentScript.src : "";

  function load(i, done) {
    if (i === LIBRARIES.length) return done();
    var tag = document.createElement("script");
    tag.src = new URL("../vendor/" + LIBRARIES[i], here).href;
    tag.onload = function () { load(i + 1, done); };
    tag.onerror = function () { done(new Error("could not load " + tag.src)); };
    document.head.appendChild(tag);
  }

  function fallback(box) {
    if (box.querySelector("img.vega-fallback") || !box.dataset.fallback) return;
    var img = document.createElement("img");
    img.className = "vega-fallback";
    img.src = box.dataset.fallback;
    img.alt = box.dataset.alt || "";
    box.appendChild(img);
  }

  function render(boxes) {
    boxes.forEach(function (box) {
      if (box.dataset.rendered) return;
      var script = box.querySelector("script.vega-spec");
      if (!script) return fallback(box);
      var target = document.createElement("div");
      target.className = "vega-target";
      box.appendChild(target);
      vegaEmbed(target, JSON.parse(script.textContent), { actions: false, renderer: "svg" })
        .then(function () { box.dataset.rendered = "true"; })
        .catch(function (err) {
          target.remove();
          fallback(box);
          console.warn("chart " + box.dataset.chart + " shows its static SVG:", err);
        });
    });
  }

  function start() {
    var boxes = document.querySelectorAll("div.vega-chart");
    if (!boxes.length) return;
    load(0, function (err) {
      if (err || typeof vegaEmbed !== "function") {
        console.warn("charts show their static SVG:", err);
        boxes.forEach(fallback);
        return;
      }
      render(boxes);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
