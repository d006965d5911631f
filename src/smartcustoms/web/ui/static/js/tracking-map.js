// The command-centre map: live trucks coloured by their worst open alert, corridors and stop
// zones, and the active alerts beside it, kept current by the live stream (server-sent events).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("cc-map");
  if (!root || !window.L) { return; }
  var T = SCTracking, t = JSON.parse(root.dataset.i18n);
  var map = T.baseMap(root);
  var trucks = {};       // transit id -> {marker, data, alerts: {alert id: severity}}
  var list = document.getElementById("cc-alerts");
  var status = document.querySelector("[data-testid=stream-status]");

  function paint(truck) {
    var severities = Object.keys(truck.alerts).map(function (id) { return truck.alerts[id]; });
    T.paintTruck(truck.marker, T.stateOf(severities));
    var path = truck.marker.getElement();
    if (path) { path.setAttribute("data-transit-id", truck.data.id); }
  }

  function popup(truck) {
    var d = truck.data, live = d.live || {};
    var link = T.el("a", { href: "/tracking/transits/" + d.id }, [t.open_transit]);
    var lines = [T.el("strong", {}, [d.reference]), T.el("br"), d.device_id + " · " + (d.vehicle || ""), T.el("br"),
      t.speed + ": " + (live.speed_kmh == null ? "—" : Math.round(live.speed_kmh) + " km/h"), T.el("br"),
      t.last_report + ": " + T.time(live.fix_time, t.time_zone)];
    if (live.inside_corridor === false) { lines.push(T.el("br"), T.el("span", { class: "bad" }, [t.off_route])); }
    if (live.zone) { lines.push(T.el("br"), t.in_zone + " " + live.zone); }
    lines.push(T.el("br"), link);
    return T.el("div", { class: "truck-popup" }, lines);
  }

  function upsertTruck(d) {
    var live = d.live || {};
    if (live.latitude == null) { return; }
    var truck = trucks[d.id];
    if (!truck) {
      truck = { data: d, alerts: {} };
      truck.marker = L.circleMarker([live.latitude, live.longitude], { radius: 7, className: "truck truck-ok" }).addTo(map);
      truck.marker.bindTooltip(function () { return T.text(truck.data.reference); });
      truck.marker.bindPopup(function () { return popup(truck); });
      // Named by its plate when the transit gives one, else by its reference.
      truck.label = map.scLabels.add({ latlng: truck.marker.getLatLng(), text: d.vehicle || d.reference, kind: "truck",
                                       priority: 0, minZoom: 3, attrs: { "data-transit-id": d.id } });
      trucks[d.id] = truck;
    } else {
      truck.data = Object.assign(truck.data, d);
      truck.marker.setLatLng([live.latitude, live.longitude]);
      map.scLabels.move(truck.label, truck.marker.getLatLng());
    }
    paint(truck);
    return truck;
  }

  function alertItem(a) {
    var item = T.el("li", { "data-alert-id": a.id, "data-transit-id": a.transit_id, class: "sev-" + a.severity + " fresh" }, [
      T.el("strong", {}, [t.types[a.type] || a.type]), " · " + a.reference, T.el("br"),
      T.el("span", { class: "muted" }, [(t.severities[a.severity] || a.severity) + " · " + (t.statuses[a.status] || a.status) + " · " + T.time(a.raised_at, t.time_zone)]),
    ]);
    item.addEventListener("click", function () {
      if (a.latitude != null) { map.setView([a.latitude, a.longitude], Math.max(map.getZoom(), 9)); }
    });
    return item;
  }

  function onAlert(a) {
    var truck = trucks[a.transit_id];
    if (truck) {
      if (a.status === "resolved") { delete truck.alerts[a.id]; } else { truck.alerts[a.id] = a.severity; }
      paint(truck);
    }
    var old = list.querySelector('[data-alert-id="' + a.id + '"]');
    if (old) { old.remove(); }
    if (a.status !== "resolved") {
      var empty = list.querySelector(".cc-empty");
      if (empty) { empty.remove(); }
      list.insertBefore(alertItem(a), list.firstChild);
    } else if (!list.querySelector("li")) {
      list.appendChild(T.el("li", { class: "muted cc-empty" }, [t.no_alerts]));
    }
  }

  function onPosition(p) {
    var truck = trucks[p.transit_id];
    var live = { latitude: p.latitude, longitude: p.longitude, speed_kmh: p.speed_kmh, course: p.course,
                 fix_time: p.time, inside_corridor: p.inside_corridor, zone: p.zone };
    upsertTruck({ id: p.transit_id, reference: p.reference, device_id: p.device_id, status: p.status,
                  live: Object.assign(truck ? truck.data.live || {} : {}, live) });
  }

  function onTransit(x) {
    var truck = trucks[x.transit_id];
    if (truck && (x.status === "discharged" || x.status === "cancelled")) {
      map.removeLayer(truck.marker);
      map.scLabels.remove(truck.label);
      delete trucks[x.transit_id];
    }
  }

  function setStatus(state, text) { status.dataset.state = state; status.textContent = text; }

  function stream(after) {
    var source = new EventSource(root.dataset.stream + "?after=" + after);
    source.addEventListener("open", function () { setStatus("live", t.live); });
    source.addEventListener("error", function () { setStatus("reconnecting", t.reconnecting); });
    source.addEventListener("position", function (e) { onPosition(JSON.parse(e.data)); });
    source.addEventListener("alert", function (e) { onAlert(JSON.parse(e.data)); });
    source.addEventListener("transit", function (e) { onTransit(JSON.parse(e.data)); });
  }

  T.getJSON(root.dataset.layers).then(function (layers) {
    var group = T.corridors(map, layers);
    if (group.getBounds().isValid()) { map.fitBounds(group.getBounds(), { padding: [10, 10] }); }
  });
  T.getJSON(root.dataset.live).then(function (snap) {
    snap.transits.forEach(function (d) {
      var truck = upsertTruck(d);
      if (truck) {
        d.open_alerts.forEach(function (a) { truck.alerts[a.id] = a.severity; });
        paint(truck);
      }
    });
    stream(snap.feed_id);
  }).catch(function (e) { setStatus("reconnecting", e.message); });
});
