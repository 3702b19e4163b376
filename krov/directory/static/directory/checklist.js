// Guide checklists: ticks are kept in this browser only (localStorage), never sent.
(function () {
  "use strict";
  var guide = document.querySelector("[data-guide]");
  if (!guide || !window.localStorage) return;
  var key = "krov-guide-" + guide.getAttribute("data-guide");
  var done = {};
  try { done = JSON.parse(window.localStorage.getItem(key) || "{}"); } catch (e) { done = {}; }
  guide.querySelectorAll("input[data-step]").forEach(function (box) {
    var step = box.getAttribute("data-step");
    box.checked = !!done[step];
    box.addEventListener("change", function () {
      done[step] = box.checked;
      window.localStorage.setItem(key, JSON.stringify(done));
    });
  });
})();
