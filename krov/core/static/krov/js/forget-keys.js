// Panic: this browser forgets Krov's keys (the locked reader key and the unlocked one) and
// the RSVPs kept for people's home pages (device-rsvps.js).
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
    try {
      for (var i = window.localStorage.length - 1; i >= 0; i -= 1) {
        var name = window.localStorage.key(i);
        if (name && name.indexOf("krov.rsvps.") === 0) window.localStorage.removeItem(name);
      }
    } catch (_error) {
      // No storage here: nothing was kept.
    }
  }
  var script = document.currentScript;
  if (script && script.hasAttribute("data-now")) {
    forget();
  }
  document.addEventListener("submit", function (event) {
    if (event.target.hasAttribute("data-forget-keys")) forget();
  });
})();
