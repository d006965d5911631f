// The corridor editor (administrators): draw a corridor's route point by point, drag points to
// move them, place stop zones, set thresholds; saving sends one GeoJSON FeatureCollection to
// the corridor import API, which checks it exactly as an imported file (all or nothing, the
// refusal naming the feature and field) and replaces a stored corridor or zone of the same
// code. The drawing stays on the page when a save is refused. No inline styles (strict CSP):
// the route and zones get CSS classes, the point handles are divIcons styled in tracking.css.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("corridor-editor");
  var form = document.getElementById("corridor-form");
  if (!root || !form || !window.L) { return; }
  var T = SCTracking;
  var words = JSON.parse(root.dataset.i18n || "{}");
  var map = T.baseMap(root);
  var stored = JSON.parse(root.dataset.route || "null");

  // The route as parts (a MultiLineString keeps its parts), each a list of [lat, lng].
  var parts = [[]];
  if (stored && stored.type === "LineString") {
    parts = [stored.coordinates.map(function (c) { return [c[1], c[0]]; })];
  } else if (stored && stored.type === "MultiLineString") {
    parts = stored.coordinates.map(function (line) {
      return line.map(function (c) { return [c[1], c[0]]; });
    });
  }
  var lines = L.layerGroup().addTo(map);
  var handles = L.layerGroup().addTo(map);
  var zones = [];  // {code, name, kind, radius, authorised, lat, lng, layer}
  var zoneLayer = L.layerGroup().addTo(map);
  var count = form.querySelector("[data-testid=point-count]");
  var errorBox = form.querySelector("[data-testid=editor-error]");

  function points() {
    return parts.reduce(function (n, part) { return n + part.length; }, 0);
  }

  function redraw() {
    lines.clearLayers();
    handles.clearLayers();
    parts.forEach(function (part, p) {
      L.polyline(part, { className: "sc-corridor-route sc-editing", interactive: false }).addTo(lines);
      part.forEach(function (point, i) {
        var handle = L.marker(point, {
          draggable: true,
          keyboard: false,
          icon: L.divIcon({ className: "sc-vertex", iconSize: [12, 12] }),
        });
        handle.on("drag", function (e) {
          part[i] = [e.latlng.lat, e.latlng.lng];
          lines.getLayers()[p].setLatLngs(part);
        });
        handle.on("add", function () { handle.getElement().setAttribute("data-vertex", p + ":" + i); });
        handles.addLayer(handle);
      });
    });
    count.textContent = (words.points || "Points on the route: %(count)s").replace("%(count)s", String(points()));
    root.setAttribute("data-points", String(points()));
  }

  function mode() {
    var checked = form.querySelector("input[name=mode]:checked");
    return checked ? checked.value : "route";
  }

  function field(name) { return form.elements.namedItem(name); }

  function placeZone(latlng) {
    var radius = Number(field("zone_radius").value) || 500;
    var zone = {
      code: field("zone_code").value.trim(),
      name: field("zone_name").value.trim(),
      kind: field("zone_kind").value,
      radius: radius,
      authorised: field("zone_authorised").checked,
      lat: latlng.lat,
      lng: latlng.lng,
    };
    zone.layer = L.circle(latlng, { radius: radius, className: "sc-zone sc-zone-" + zone.kind, interactive: false });
    zone.layer.addTo(zoneLayer);
    zones.push(zone);
    var item = document.createElement("li");
    item.appendChild(document.createTextNode((zone.code || "?") + " · " + (zone.name || "") + " "));
    var remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = words.remove || "Remove";
    remove.addEventListener("click", function () {
      zoneLayer.removeLayer(zone.layer);
      zones.splice(zones.indexOf(zone), 1);
      item.remove();
    });
    item.appendChild(remove);
    form.querySelector("[data-testid=new-zones]").appendChild(item);
    field("zone_code").value = "";
    field("zone_name").value = "";
  }

  map.on("click", function (e) {
    if (mode() === "zone") { placeZone(e.latlng); return; }
    parts[parts.length - 1].push([e.latlng.lat, e.latlng.lng]);
    redraw();
  });

  form.addEventListener("click", function (e) {
    var action = e.target.getAttribute && e.target.getAttribute("data-action");
    if (!action) { return; }
    var last = parts[parts.length - 1];
    if (action === "undo") {
      if (last.length) { last.pop(); } else if (parts.length > 1) { parts.pop(); }
    } else if (action === "part" && last.length) {
      parts.push([]);
    } else if (action === "clear") {
      parts = [[]];
    }
    redraw();
  });

  function number(value) {
    var text = String(value).trim();
    return text === "" ? null : Number(text);
  }

  function collection() {
    var thresholds = {};
    Array.prototype.forEach.call(form.elements, function (input) {
      if (input.name && input.name.indexOf("threshold:") === 0) {
        var value = number(input.value);
        if (value !== null) { thresholds[input.name.slice(10)] = value; }
      }
    });
    var drawn = parts.filter(function (part) { return part.length; }).map(function (part) {
      return part.map(function (p) { return [p[1], p[0]]; });
    });
    var geometry = drawn.length === 1
      ? { type: "LineString", coordinates: drawn[0] }
      : { type: "MultiLineString", coordinates: drawn };
    var properties = { code: field("code").value.trim(), thresholds: thresholds };
    if (field("name").value.trim()) { properties.name = field("name").value.trim(); }
    var buffer = number(field("buffer_m").value);
    if (buffer !== null) { properties.buffer_m = buffer; }
    var features = [{ type: "Feature", geometry: geometry, properties: properties }];
    zones.forEach(function (z) {
      var props = { code: z.code, kind: z.kind, radius_m: z.radius, authorised_stop: z.authorised };
      if (z.name) { props.name = z.name; }
      features.push({ type: "Feature", geometry: { type: "Point", coordinates: [z.lng, z.lat] }, properties: props });
    });
    return { type: "FeatureCollection", features: features };
  }

  function csrf() {
    var headers = document.body.getAttribute("hx-headers");
    return headers ? JSON.parse(headers) : {};
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    errorBox.hidden = true;
    var headers = Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, csrf());
    fetch("/api/tracking/corridors/import", {
      method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(collection()),
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (answer) {
      if (answer.ok) {
        window.location.assign("/admin/corridors/" + encodeURIComponent(answer.body.corridors[0]));
        return;
      }
      var error = answer.body.error || {};
      var detail = (error.details || []).filter(function (d) { return d.field; })[0] || {};
      errorBox.textContent = "";
      var summary = document.createElement("p");
      summary.textContent = (words.refused || "Refused: field %(field)s.").replace("%(field)s", detail.field || "—");
      var message = document.createElement("code");
      message.textContent = error.message || "";
      errorBox.appendChild(summary);
      errorBox.appendChild(message);
      errorBox.setAttribute("data-field", detail.field || "");
      errorBox.hidden = false;
    }).catch(function (err) {
      errorBox.textContent = err.message;
      errorBox.hidden = false;
    });
  });

  redraw();
  var bounds = L.latLngBounds(parts.reduce(function (all, part) { return all.concat(part); }, []));
  if (bounds.isValid()) { map.fitBounds(bounds.pad(0.1)); }
  root.setAttribute("data-loaded", "true");
});
