/* AWSomeShop storefront: small enhancements; every page works without this file.
   - A form marked data-once is sent once: later clicks while it is on its way do nothing
     (the server places one order per confirmation anyway).
   - The product page highlights the cost row of the chosen quantity. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-once")) return;
    if (form.getAttribute("data-sent") === "1") { event.preventDefault(); return; }
    form.setAttribute("data-sent", "1");
    var buttons = form.querySelectorAll("button[type=submit]");
    for (var i = 0; i < buttons.length; i++) { buttons[i].setAttribute("aria-disabled", "true"); }
  });
  window.addEventListener("pageshow", function () {
    // Back to a page from the browser's cache: its forms may be sent again deliberately.
    var sent = document.querySelectorAll("form[data-sent]");
    for (var i = 0; i < sent.length; i++) {
      sent[i].removeAttribute("data-sent");
      var b = sent[i].querySelectorAll("button[aria-disabled]");
      for (var j = 0; j < b.length; j++) { b[j].removeAttribute("aria-disabled"); }
    }
  });
  var select = document.getElementById("id_quantity");
  var table = document.getElementById("cost-table");
  if (select && table) {
    var mark = function () {
      var rows = table.querySelectorAll("tbody tr");
      for (var i = 0; i < rows.length; i++) {
        rows[i].classList.toggle("chosen", rows[i].getAttribute("data-quantity") === select.value);
      }
    };
    select.addEventListener("change", mark);
    mark();
  }
})();
