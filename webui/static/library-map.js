"use strict";
// The library's small map: offline (outline, main roads and commune points from the dataset,
// no tiles); a dispatcher drags the marker (or clicks the map) to place the library.
(function () {
  var el = document.getElementById("library-map");
  if (!el || !window.L) return;
  // Names come from the data: shown as text, never as HTML.
  function text(s) { var span = document.createElement("span"); span.textContent = s; return span; }
  function esc(s) { var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
  L.Icon.Default.imagePath = el.getAttribute("data-images");
  var editable = el.getAttribute("data-editable") === "1";
  var here = [parseFloat(el.getAttribute("data-lat")), parseFloat(el.getAttribute("data-lon"))];
  var centre = [parseFloat(el.getAttribute("data-centre-lat")), parseFloat(el.getAttribute("data-centre-lon"))];
  var map = L.map(el, {minZoom: 8, maxZoom: 17}).setView(here, 12);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(esc(el.getAttribute("data-attribution") || ""));
  var colours = {trunk: "#c0392b", primary: "#d35400", secondary: "#b7950b", tertiary: "#7f8c8d"};
  var weights = {trunk: 4, primary: 3.5, secondary: 3, tertiary: 2};
  fetch(el.getAttribute("data-basemap"), {credentials: "same-origin"})
    .then(function (r) { return r.json(); })
    .then(function (d) {
      L.geoJSON(d.outline, {style: {color: "#444", weight: 2, fill: false}, interactive: false}).addTo(map);
      L.geoJSON(d.roads, {style: function (f) {
        var c = f.properties["class"];
        return {color: colours[c] || "#999", weight: weights[c] || 2};
      }, onEachFeature: function (f, layer) {
        if (f.properties.label) layer.bindTooltip(text(f.properties.label));
      }}).addTo(map);
      L.geoJSON(d.communes, {pointToLayer: function (f, ll) {
        return L.circleMarker(ll, {radius: 3, color: "#555", weight: 1, fillOpacity: 0.6})
          .bindTooltip(text(f.properties.name));
      }}).addTo(map);
    });
  L.circleMarker(centre, {radius: 6, color: "#555", dashArray: "3", fill: false, interactive: false}).addTo(map);
  var marker = L.marker(here, {draggable: editable, keyboard: editable}).addTo(map);
  var lat = document.getElementById("lib-lat"), lon = document.getElementById("lib-lon");
  function show(ll) {
    if (!lat || !lon) return;
    lat.value = ll.lat.toFixed(6);
    lon.value = ll.lng.toFixed(6);
  }
  if (!editable || !lat || !lon) return;
  marker.on("dragend", function () { show(marker.getLatLng()); });
  map.on("click", function (e) { marker.setLatLng(e.latlng); show(e.latlng); });
  function follow() {
    var ll = [parseFloat(lat.value), parseFloat(lon.value)];
    if (isFinite(ll[0]) && isFinite(ll[1])) { marker.setLatLng(ll); map.panTo(ll); }
  }
  lat.addEventListener("change", follow);
  lon.addEventListener("change", follow);
})();
