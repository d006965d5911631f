// One transit: its corridor, its track, and a replay that moves the truck along it, coloured by
// the transit's state at each moment (its alerts open then) as trucks are on the command centre.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("transit-map");
  if (!root || !window.L) { return; }
  var T = SCTracking, t = JSON.parse(root.dataset.i18n);
  var map = T.baseMap(root);
  var play = document.getElementById("replay-play");
  var slider = document.getElementById("replay-slider");
  var label = document.getElementById("replay-label");
  var points = [], marker = null, plate = null, timer = null;
  var alerts = JSON.parse(root.dataset.alerts || "[]");
  // Seal events arrive as codes (low_battery); the page gives their names in its language.
  function eventNames(p) {
    return p.events.map(function (e) { return (t.events && t.events[e]) || e; }).join(", ");
  }

  // The alerts open at a moment: from when the seal reported it until it was resolved.
  function stateAt(iso) {
    var at = Date.parse(iso);
    return T.stateOf(alerts.filter(function (a) {
      var from = Date.parse(a.occurred_at || a.raised_at);
      return from <= at && !(a.resolved_at && Date.parse(a.resolved_at) <= at);
    }).map(function (a) { return a.severity; }));
  }

  function show(i) {
    var p = points[i];
    if (!p) { return; }
    marker.setLatLng([p.latitude, p.longitude]);
    map.scLabels.move(plate, marker.getLatLng());
    var state = stateAt(p.time);
    T.paintTruck(marker, state);
    var text = T.time(p.time, t.time_zone) + " · " + (p.speed_kmh == null ? "—" : Math.round(p.speed_kmh) + " km/h") +
      " · " + t.states[state];
    if (p.events.length) { text += " · " + eventNames(p); }
    label.textContent = text;
    slider.value = String(i);
  }

  function stop() { if (timer) { clearInterval(timer); timer = null; } play.textContent = t.play; }

  play.addEventListener("click", function () {
    if (timer) { stop(); return; }
    if (Number(slider.value) >= points.length - 1) { show(0); }
    play.textContent = t.pause;
    timer = setInterval(function () {
      var next = Number(slider.value) + 1;
      if (next >= points.length) { stop(); return; }
      show(next);
    }, 100);
  });
  slider.addEventListener("input", function () { stop(); show(Number(slider.value)); });

  T.getJSON(root.dataset.layers).then(function (layers) {
    var group = T.corridors(map, layers, root.dataset.corridor);
    if (!points.length && group.getBounds().isValid()) { map.fitBounds(group.getBounds()); }
  });
  T.getJSON(root.dataset.track).then(function (track) {
    points = track;
    if (!points.length) { label.textContent = t.no_track; return; }
    var line = L.polyline(points.map(function (p) { return [p.latitude, p.longitude]; }), { className: "sc-track" }).addTo(map);
    points.forEach(function (p) {
      if (p.events.length) {
        L.circleMarker([p.latitude, p.longitude], { radius: 5, className: "sc-track-event" })
          .bindTooltip(T.text(T.time(p.time, t.time_zone) + " · " + eventNames(p))).addTo(map);
      }
    });
    marker = L.circleMarker([points[0].latitude, points[0].longitude], { radius: 8, className: "truck truck-ok" }).addTo(map);
    plate = map.scLabels.add({ latlng: marker.getLatLng(), text: root.dataset.vehicle || root.dataset.reference,
                               kind: "truck", priority: 0, minZoom: 3 });
    map.fitBounds(line.getBounds().pad(0.2));
    slider.max = String(points.length - 1);
    slider.disabled = false;
    play.disabled = false;
    show(points.length - 1);
  });
});
