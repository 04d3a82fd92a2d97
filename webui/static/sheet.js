"use strict";
// The route sheet's print button (no inline script: the pages' Content-Security-Policy
// allows scripts from this site's files only).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".print-button").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});
