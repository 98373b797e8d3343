// What the theme leaves to us for assistive technology: a name for the search
// dialog, and keyboard access to every region that scrolls sideways (wide tables,
// long code lines, charts), so that it can be scrolled without a mouse.
(function () {
  function fix() {
    document.querySelectorAll('[role="dialog"]:not([aria-label]):not([aria-labelledby])').forEach(function (d) {
      d.setAttribute("aria-label", "Search this site");
    });
    document.querySelectorAll(".md-typeset__scrollwrap, .md-typeset pre > code, .vega-chart, .jupyter-wrapper pre").forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1;
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.tabIndex = 0;
        if (!el.hasAttribute("role") && !el.hasAttribute("aria-label")) {
          el.setAttribute("role", "region");
          el.setAttribute("aria-label", el.matches("code, pre") ? "code, scrolls sideways" : "table, scrolls sideways");
        }
      }
    });
  }
  if (window.document$ && typeof window.document$.subscribe === "function") window.document$.subscribe(fix);
  else window.addEventListener("load", fix);
  window.addEventListener("resize", fix);
})();
