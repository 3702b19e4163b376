// Check-in: scan a QR code with the camera where the browser has BarcodeDetector;
// otherwise the code is typed (or pasted by a hardware scanner) into the field.
(function () {
  "use strict";
  var button = document.getElementById("scan-button");
  var field = document.getElementById("checkin-code");
  var video = document.getElementById("scan-video");
  if (!button || !field || !video || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      var stop = function () { stream.getTracks().forEach(function (t) { t.stop(); }); video.hidden = true; };
      var tick = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) { stop(); field.value = codes[0].rawValue; field.form.submit(); }
          else { window.requestAnimationFrame(tick); }
        }).catch(function () { window.requestAnimationFrame(tick); });
      };
      tick();
    }).catch(function () { button.hidden = true; });
  });
})();
