// Loads sealed.js (and the vendored bundle, for the RFC 9180 vector) the way a Krov page
// does, and hands both to the test, which drives them with page.evaluate().
import * as sealed from "/static/krov/js/sealed.js";
import * as vendor from "/static/krov/js/vendor/krov-crypto-vendor.js";

window.sealed = sealed;
window.vendor = vendor;
window.sealedReady = true;
document.getElementById("status").textContent = "ready";
