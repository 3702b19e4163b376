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
    if (!form.classList || !form.classList.contains("reply-form")) return;
    var error = form.querySelector("#reply-error");
    if (event.detail.successful) {
      form.reset();
      if (error) { error.hidden = true; error.textContent = ""; }
    } else if (error) {
      // The server said why (e.g. the case was closed meanwhile); the text stays in the box.
      var xhr = event.detail.xhr;
      error.textContent = (xhr && xhr.status && xhr.responseText) ? xhr.responseText : error.getAttribute("data-offline");
      error.hidden = false;
    }
  });
})();
