// Case page: canned replies fill the answer box; a sent answer clears it.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-target]")) return;
    var box = document.getElementById(select.getAttribute("data-target"));
    if (box && select.value) {
      box.value = box.value ? box.value + "\n" + select.value : select.value;
      box.focus();
    }
    select.value = "";
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (form.classList && form.classList.contains("reply-form") && event.detail.successful) {
      form.reset();
    }
  });
})();
