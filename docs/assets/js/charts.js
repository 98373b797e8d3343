// Draw every inline chart spec with the local, pinned Vega. The specs were compiled
// from Vega-Lite to Vega when the site was built (pipeline/publish/charts.py), so the
// page needs Vega alone (about 510 KB), fetched only by pages that have a chart, from
// the folder beside this script: the site still works from file:// and offline.
// Readers without JavaScript get the SVG rendered at build time (in <noscript>); if
// drawing fails here, that SVG is put in the chart's place. A chart of a page's second or
// later machine carries no inline spec but its address (data-src): it is fetched when it
// scrolls near the screen, so a page weighs the same however many machines are stored;
// where fetching is not allowed (file://), the SVG takes its place.
(function () {
  var LIBRARY = "vega@6.4.0.min.js";
  var here = document.currentScript ? document.currentScript.src : "";

  function load(done) {
    var tag = document.createElement("script");
    tag.src = new URL("../vendor/" + LIBRARY, here).href;
    tag.onload = function () { done(); };
    tag.onerror = function () { done(new Error("could not load " + tag.src)); };
    document.head.appendChild(tag);
  }

  function fallback(box) {
    if (box.querySelector("img.vega-fallback") || !box.dataset.fallback) return;
    var img = document.createElement("img");
    img.className = "vega-fallback";
    img.loading = "lazy";
    img.src = box.dataset.fallback;
    img.alt = box.dataset.alt || "";
    box.appendChild(img);
  }

  function draw(box, fetched) {
    if (box.dataset.rendered) return;
    var script = box.querySelector("script.vega-spec");
    if (!script && !fetched) return fallback(box);
    var target = document.createElement("div");
    target.className = "vega-target";
    box.appendChild(target);
    var fail = function (err) {
      target.remove();
      fallback(box);
      console.warn("chart " + box.dataset.chart + " shows its static SVG:", err);
    };
    try {
      var spec = fetched || JSON.parse(script.textContent);
      if (/vega-lite/.test(spec.$schema || "")) throw new Error("a Vega-Lite spec: compile it to Vega first");
      // Vega's own tooltip handler shows a mark's tooltip as the browser's title text
      new vega.View(vega.parse(spec), { renderer: "svg", container: target, hover: true })
        .runAsync()
        .then(function () {
          box.dataset.rendered = "true";
          // a static image shown outside <noscript> (the notebook's, for JupyterLab) gives way to the chart
          box.querySelectorAll("img.vega-fallback").forEach(function (img) { img.remove(); });
        })
        .catch(fail);
    } catch (err) {
      fail(err);
    }
  }

  function fetchAndDraw(box) {
    if (box.dataset.requested) return;
    box.dataset.requested = "true";
    fetch(box.dataset.src)
      .then(function (response) {
        if (!response.ok) throw new Error(response.status + " " + box.dataset.src);
        return response.json();
      })
      .then(function (spec) { draw(box, spec); })
      .catch(function (err) {
        fallback(box);
        console.warn("chart " + box.dataset.chart + " shows its static SVG:", err);
      });
  }

  function later(boxes) {
    if (!boxes.length) return;
    if (location.protocol === "file:") return boxes.forEach(fallback);
    if (!("IntersectionObserver" in window)) return boxes.forEach(fetchAndDraw);
    var watch = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          watch.unobserve(entry.target);
          fetchAndDraw(entry.target);
        }
      });
    }, { rootMargin: "400px 0px" });
    boxes.forEach(function (box) { watch.observe(box); });
  }

  function start() {
    var boxes = Array.prototype.slice.call(document.querySelectorAll("div.vega-chart"));
    if (!boxes.length) return;
    var now = boxes.filter(function (box) { return !box.dataset.src; });
    var onDemand = boxes.filter(function (box) { return box.dataset.src; });
    load(function (err) {
      if (err || typeof vega === "undefined") {
        console.warn("charts show their static SVG:", err);
        boxes.forEach(fallback);
        return;
      }
      now.forEach(function (box) { draw(box); });
      later(onDemand);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
