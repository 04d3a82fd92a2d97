"use strict";
// The month view of a plan's trips (webui/tripcalendar.py): drag a trip to another day, or a
// commune's visit onto another trip or an empty day. A drop only fills in the plain forms under
// the calendar and sends them, so the server does what it does without scripts: a new draft,
// checked, whose calendar the browser then shows.
(function () {
  var table = document.getElementById("trip-calendar");
  if (!table) return;
  // a commune's name: its visits (the list beside the calendar links there without scripts)
  table.addEventListener("click", function (ev) {
    var chip = ev.target.closest && ev.target.closest(".cal-chip[data-href]");
    if (chip) window.location.assign(chip.getAttribute("data-href"));
  });
  if (table.getAttribute("data-editable") !== "1") return;
  var shiftForm = document.getElementById(table.getAttribute("data-shift-form"));
  var moveForm = document.getElementById(table.getAttribute("data-move-form"));
  if (!shiftForm || !moveForm) return;
  var dragged = null; // {kind: "trip"|"visit", trip, commune, first}

  function field(form, name) { return form.elements.namedItem(name); }
  function send(form) {
    table.classList.add("sending");
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }
  function clearTargets() {
    table.querySelectorAll(".drop-target").forEach(function (e) { e.classList.remove("drop-target"); });
  }
  // where a drop falls: an empty day of a vehicle's row, or (for a visit) a trip's bar
  function dropAt(target) {
    var free = target.closest("td.cal-free");
    if (free) return {date: free.getAttribute("data-date"), vehicle: free.getAttribute("data-vehicle"), trip: null};
    var bar = target.closest(".cal-trip");
    return bar ? {date: null, vehicle: null, trip: bar.getAttribute("data-trip")} : null;
  }

  table.addEventListener("dragstart", function (ev) {
    var chip = ev.target.closest && ev.target.closest(".cal-chip");
    var bar = ev.target.closest && ev.target.closest(".cal-trip");
    if (chip) {
      dragged = {kind: "visit", trip: chip.getAttribute("data-trip"), commune: chip.getAttribute("data-commune")};
    } else if (bar) {
      dragged = {kind: "trip", trip: bar.getAttribute("data-trip"), first: bar.getAttribute("data-first")};
    } else {
      return;
    }
    ev.dataTransfer.effectAllowed = "move";
    ev.dataTransfer.setData("text/plain", dragged.kind + ":" + dragged.trip + ":" + (dragged.commune || ""));
    table.classList.add("dragging");
  });
  table.addEventListener("dragend", function () {
    dragged = null;
    table.classList.remove("dragging");
    clearTargets();
  });
  table.addEventListener("dragover", function (ev) {
    if (!dragged) return;
    var target = ev.target.closest && (ev.target.closest("td.cal-free") ||
      (dragged.kind === "visit" ? ev.target.closest(".cal-trip") : null));
    if (!target) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = "move";
    clearTargets();
    target.classList.add("drop-target");
  });
  table.addEventListener("drop", function (ev) {
    if (!dragged) return;
    ev.preventDefault();
    var at = dropAt(ev.target);
    var what = dragged;
    dragged = null;
    clearTargets();
    if (!at) return;
    if (what.kind === "trip") {
      if (!at.date || at.date === what.first) return;
      field(shiftForm, "trip_id").value = what.trip;
      field(shiftForm, "date").value = at.date;
      send(shiftForm);
    } else {
      if (at.trip === what.trip) return;
      field(moveForm, "visit").value = what.commune + "|" + what.trip;
      field(moveForm, "to_trip").value = at.trip || "";
      field(moveForm, "date").value = at.trip ? "" : at.date;
      field(moveForm, "vehicle_id").value = at.trip ? "" : (at.vehicle || "");
      send(moveForm);
    }
  });
})();
