"use strict";
// Filter the rows as one types, with the same folding as the server (no diacritics, đ = d).
(function () {
  var input = document.getElementById("commune-q");
  var table = document.getElementById("communes");
  var count = document.getElementById("commune-count");
  if (!input || !table || !count) return;
  var template = count.getAttribute("data-template");
  function fold(s) {
    return s.replace(/[đĐ]/g, "d").normalize("NFD").replace(/\p{M}/gu, "").toLowerCase()
      .replace(/\s+/g, " ").trim();
  }
  var only = document.querySelector('input[name="only"]');
  input.addEventListener("input", function () {
    var terms = fold(input.value).split(" ").filter(Boolean);
    var shown = 0;
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      var fields = tr.getAttribute("data-search").split("|");
      var ok = terms.length === 0 || fields.some(function (f) {
        return terms.every(function (t) { return f.indexOf(t) >= 0; });
      });
      if (only && only.checked && !tr.classList.contains("in-scenario")) ok = false;
      tr.hidden = !ok;
      if (ok) shown += 1;
    });
    count.textContent = template.replace("__SHOWN__", shown).replace("__TOTAL__", count.getAttribute("data-total"));
  });
})();
