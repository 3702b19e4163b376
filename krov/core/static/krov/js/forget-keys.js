// Panic: this browser forgets Krov's keys (the locked reader key and the unlocked one).
// On the panic page the deletion starts as the form is sent; on the page after, it runs at
// once, so a key store that was open in another tab is deleted as soon as that tab closes.
(function () {
  "use strict";
  function forget() {
    ["krov-keys", "krov-unlocked"].forEach(function (name) {
      try {
        indexedDB.deleteDatabase(name);
      } catch (_error) {
        // No IndexedDB here (private mode): nothing was kept.
      }
    });
  }
  var script = document.currentScript;
  if (script && script.hasAttribute("data-now")) {
    forget();
  }
  document.addEventListener("submit", function (event) {
    if (event.target.hasAttribute("data-forget-keys")) forget();
  });
})();
