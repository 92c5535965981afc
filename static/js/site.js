/* Every page: a form posted once. A double click, or Enter pressed twice, on a form that
   records something (a payment, a remittance) sends one request; the server is idempotent
   where money is concerned, but a second request would show a confusing second answer. */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") {
      return;
    }
    if (form.dataset.submitted === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "true";
    // Disabled after the browser has read the form, so the pressed button's value goes too.
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
        b.disabled = true;
      });
    }, 0);
  });

  // Back to a page kept in the browser's cache: its forms may be sent again, on purpose.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) {
      return;
    }
    document.querySelectorAll("form[data-submitted]").forEach(function (form) {
      delete form.dataset.submitted;
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
        b.disabled = false;
      });
    });
  });
})();
