// A table wider than the page gets a visible cue above it, so that a reader on a
// phone knows more columns are a sideways scroll away (the first column stays put).
(function () {
  function mark() {
    document.querySelectorAll(".md-typeset__scrollwrap").forEach(function (wrap) {
      var cue = wrap.previousElementSibling;
      var has = cue && cue.classList.contains("scroll-cue");
      var wide = wrap.scrollWidth > wrap.clientWidth + 1;
      if (wide && !has) {
        cue = document.createElement("p");
        cue.className = "scroll-cue";
        cue.textContent = "Scroll the table sideways for more columns \u2192";
        wrap.parentNode.insertBefore(cue, wrap);
      } else if (!wide && has) {
        cue.remove();
      }
    });
  }
  // Material wraps each table in a scroll container once its own script has run
  if (window.document$ && typeof window.document$.subscribe === "function") window.document$.subscribe(mark);
  else window.addEventListener("load", mark);
  window.addEventListener("resize", mark);
})();
