// The theme starts its search worker and fetches the search index (together
// several hundred KB) as every page loads, although most readers never search.
// This holds both back until the reader reaches for search: the search field gets
// focus (a click, or the "/", "s" or "f" shortcut), or a pointer goes down on the
// search button. Until the index arrives the theme shows its own "Initializing
// search" note. It must run before the theme's bundle, which creates the worker
// with `new Worker(url)` and requests the index with XMLHttpRequest; should the
// theme change either, search still works and only the saving is lost.
(function () {
  var INDEX = /(^|\/)search\/search_index\.json$/;
  var WORKER = /\/workers\/search\.[^/]*\.js$/;
  var held = [];
  var released = false;

  function whenReleased(go) {
    if (released) go(); else held.push(go);
  }
  function release() {
    if (released) return;
    released = true;
    held.splice(0).forEach(function (go) { go(); });
  }

  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.searchIndex = INDEX.test(String(url).split(/[?#]/)[0]);
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    var xhr = this, args = arguments;
    if (!xhr.searchIndex) return send.apply(xhr, args);
    whenReleased(function () { send.apply(xhr, args); });
  };

  // A stand-in with the worker's interface (messages both ways) that starts the
  // real worker on release and passes on what was posted before.
  var RealWorker = window.Worker;
  if (typeof RealWorker === "function" && typeof EventTarget === "function") {
    window.Worker = function (url, options) {
      if (!WORKER.test(String(url))) return new RealWorker(url, options);
      var standIn = new EventTarget();
      var real = null, queue = [];
      standIn.postMessage = function (message) {
        if (real) real.postMessage(message); else queue.push(message);
      };
      standIn.terminate = function () { if (real) real.terminate(); };
      whenReleased(function () {
        real = new RealWorker(url, options);
        real.addEventListener("message", function (event) {
          standIn.dispatchEvent(new MessageEvent("message", { data: event.data }));
        });
        queue.splice(0).forEach(function (message) { real.postMessage(message); });
      });
      return standIn;
    };
  }

  document.addEventListener("focusin", function (event) {
    var el = event.target;
    if (el && el.closest && el.closest("form[name=search]")) release();
  });
  document.addEventListener("pointerdown", function (event) {
    var el = event.target;
    if (el && el.closest && el.closest("label[for=__search], .md-search")) release();
  }, true);
})();
