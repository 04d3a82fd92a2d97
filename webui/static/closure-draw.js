/* Closures page: the offline map (basemap, plan routes, closures) and a small drawing tool.
 *
 * Click on the map to add points: a line across or along the blocked road, or an area
 * around it. The drawing is written as GeoJSON into the form's geometry field, which the
 * page also shows for pasting coordinates by hand, so the form works without this script.
 * Plain Leaflet (vendored); nothing is loaded from other hosts.
 */
(function () {
  "use strict";
  // Deleting a closure asks first (the form's data-confirm text, in the page's language).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
  var el = document.getElementById("closure-map");
  if (!el || typeof L === "undefined") { return; }
  var COLOURS = ["#0b4f9c", "#c2410c", "#15803d", "#7e22ce", "#92400e", "#111827"];
  var map = L.map(el, {preferCanvas: true, zoomSnap: 0.25}).setView([22.9, 105.0], 9);
  window.mlpClosureMap = map;
  L.control.scale({imperial: false}).addTo(map);
  map.attributionControl.setPrefix("Leaflet");

  function esc(text) {
    var d = document.createElement("div");
    d.textContent = text == null ? "" : String(text);
    return d.innerHTML;
  }

  fetch(el.getAttribute("data-src"), {credentials: "same-origin"})
    .then(function (r) { return r.json(); })
    .then(function (data) {
      map.attributionControl.addAttribution(esc(data.attribution));
      var outline = L.geoJSON(data.outline, {interactive: false, style: {
        color: "#333", weight: 2, fillColor: "#fff", fillOpacity: 0.7}}).addTo(map);
      data.roads.forEach(function (layer) {
        L.geoJSON(layer.features, {interactive: false, style: layer.style}).addTo(map);
      });
      // names of roads and places, as plain text, more of them as the map zooms in
      var groups = {major: L.layerGroup(), minor: L.layerGroup(), commune: L.layerGroup(),
                    village: L.layerGroup()};
      var MIN_ZOOM = {major: 9, commune: 10.5, minor: 11, village: 12};
      function label(item, cls, group) {
        var node = document.createElement("span");
        node.textContent = item.text;
        L.marker([item.lat, item.lon], {interactive: false, keyboard: false,
          icon: L.divIcon({className: "map-label " + cls, html: node, iconSize: null})}).addTo(group);
      }
      ((data.labels || {}).roads || []).forEach(function (r) {
        var major = r["class"] === "trunk" || r["class"] === "primary";
        label(r, "road-label road-" + r["class"], major ? groups.major : groups.minor);
      });
      ((data.labels || {}).places || []).forEach(function (p) {
        label(p, "place-label place-" + p.kind, p.kind === "commune" ? groups.commune : groups.village);
      });
      function showNames() {
        var z = map.getZoom();
        Object.keys(groups).forEach(function (k) {
          if (z >= MIN_ZOOM[k]) { groups[k].addTo(map); } else { map.removeLayer(groups[k]); }
        });
      }
      map.on("zoomend", showNames);
      var vehicles = [];
      var routes = L.geoJSON(data.routes, {interactive: false, style: function (f) {
        var i = vehicles.indexOf(f.properties.vehicle_id);
        if (i < 0) { vehicles.push(f.properties.vehicle_id); i = vehicles.length - 1; }
        return {color: COLOURS[i % COLOURS.length], weight: 4, opacity: 0.8};
      }}).addTo(map);
      L.geoJSON(data.stops, {pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {radius: 5, color: "#000", weight: 1, fillColor: "#fff",
                                       fillOpacity: 1})
          .bindTooltip(esc(f.properties.seq + ". " + f.properties.name));
      }}).addTo(map);
      L.geoJSON(data.closures, {style: {color: "#b91c1c", weight: 6, dashArray: "8 6",
                                        fillColor: "#b91c1c", fillOpacity: 0.25},
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.bindPopup("<strong>" + esc(p.name) + "</strong><br>" + esc(p.from) + " – " +
                          esc(p.to) + (p.note ? "<br>" + esc(p.note) : ""));
        }}).addTo(map);
      var frame = routes.getLayers().length ? routes : outline;
      if (frame.getLayers().length) { map.fitBounds(frame.getBounds(), {padding: [20, 20], animate: false}); }
      showNames();
      el.setAttribute("data-ready", "1");
    })
    .catch(function (err) { el.setAttribute("data-error", String(err)); });

  // --- drawing ---------------------------------------------------------------------------
  var field = document.getElementById(el.getAttribute("data-geometry-field") || "");
  var tools = document.getElementById("draw-tools");
  if (!field || !tools) { return; }
  tools.hidden = false;
  var status = document.getElementById("draw-status");
  var statusTemplate = status ? status.getAttribute("data-template") || "{n}" : "{n}";
  var points = [];
  var preview = L.layerGroup().addTo(map);

  function mode() {
    var checked = tools.querySelector('input[name="draw-mode"]:checked');
    return checked ? checked.value : "LineString";
  }

  function geometry() {
    var coords = points.map(function (p) {
      return [Math.round(p.lng * 1e6) / 1e6, Math.round(p.lat * 1e6) / 1e6];
    });
    if (mode() === "Polygon") {
      if (coords.length < 3) { return null; }
      return {type: "Polygon", coordinates: [coords.concat([coords[0]])]};
    }
    return coords.length < 2 ? null : {type: "LineString", coordinates: coords};
  }

  function redraw() {
    preview.clearLayers();
    var style = {color: "#b91c1c", weight: 5, fillOpacity: 0.2, interactive: false};
    if (points.length >= 2) {
      (mode() === "Polygon" && points.length >= 3 ? L.polygon(points, style)
                                                  : L.polyline(points, style)).addTo(preview);
    }
    points.forEach(function (p) {
      L.circleMarker(p, {radius: 5, color: "#b91c1c", fillColor: "#fff", fillOpacity: 1,
                         interactive: false}).addTo(preview);
    });
    var g = geometry();
    field.value = g ? JSON.stringify(g) : "";
    if (status) { status.textContent = statusTemplate.replace("{n}", String(points.length)); }
  }

  map.on("click", function (e) { points.push(e.latlng); redraw(); });
  document.getElementById("draw-undo").addEventListener("click", function () {
    points.pop(); redraw();
  });
  document.getElementById("draw-clear").addEventListener("click", function () {
    points = []; redraw();
  });
  Array.prototype.forEach.call(tools.querySelectorAll('input[name="draw-mode"]'),
                               function (r) { r.addEventListener("change", redraw); });
  window.mlpClosureDraw = {add: function (lat, lon) { points.push(L.latLng(lat, lon)); redraw(); }};
})();
