// Shared by the command-centre map and the transit page: an offline base map (country borders
// from the vendored world-atlas TopoJSON; rivers, lakes and towns from static/basemap, built by
// scripts/build_basemap.py), corridors and zones with their names, and the colour of a truck's
// state. No inline styles anywhere: vector layers get CSS classes (static/css/tracking.css), so
// the strict CSP holds.
"use strict";
window.SCTracking = (function () {
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) { throw new Error(url + ": " + r.status); }
        return r.json();
      });
  }

  // Panes keep the layers in order whatever loads first: countries at the bottom, then
  // corridors and zones, then trucks and tracks (Leaflet's overlay pane, z-index 400).
  function pane(map, name, z) {
    map.createPane(name);
    map.getPane(name).style.zIndex = String(z);  // CSSOM, not a style attribute: CSP allows it
    return name;
  }

  function baseMap(el, view) {
    // The zoom buttons' titles in the page's language, from the labels the page passes as JSON.
    var words = el.dataset.i18n ? JSON.parse(el.dataset.i18n) : {};
    var map = L.map(el, { minZoom: 3, maxZoom: 15, worldCopyJump: false, preferCanvas: false, zoomControl: false });
    L.control.zoom({ zoomInTitle: words.zoom_in || "Zoom in", zoomOutTitle: words.zoom_out || "Zoom out" }).addTo(map);
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Natural Earth · GeoNames · world-atlas · Leaflet");
    map.setView(view || [-2.5, 34.0], 6);
    pane(map, "sc-countries", 200);
    pane(map, "sc-detail", 250);
    pane(map, "sc-corridors", 300);
    map.scLabels = SCLabels.create(map);
    getJSON(el.dataset.world).then(function (topo) {
      var land = topojson.feature(topo, topo.objects.countries);
      L.geoJSON(land, { interactive: false, className: "sc-country", pane: "sc-countries" }).addTo(map);
    }).catch(function (e) { console.warn("base map:", e.message); });
    if (el.dataset.basemap) {
      getJSON(el.dataset.basemap).then(function (detail) { drawDetail(map, detail); })
        .catch(function (e) { console.warn("base map detail:", e.message); });
    }
    return map;
  }

  // Rivers and lakes as lines and areas; towns as labels from the zoom their size earns them.
  function drawDetail(map, detail) {
    L.geoJSON(detail, {
      pane: "sc-detail", interactive: false,
      filter: function (f) { return f.properties.layer !== "place"; },
      style: function (f) { return { className: "sc-" + f.properties.layer }; },
    }).addTo(map);
    detail.features.forEach(function (f) {
      if (f.properties.layer !== "place") { return; }
      var c = f.geometry.coordinates;
      map.scLabels.add({ latlng: L.latLng(c[1], c[0]), text: f.properties.name, kind: "place",
                         priority: 10 + f.properties.min_zoom, minZoom: f.properties.min_zoom });
    });
  }

  // From which zoom each kind of zone is named: border posts first, they matter most here.
  var ZONE_LABEL_ZOOM = { border_post: 6, port: 7, office: 7 };

  // A corridor is named once, on its first route, at the middle of the line or else a third
  // or two thirds along it, wherever the label finds room.
  function labelCorridor(map, f, layer, named) {
    var line = layer.getLatLngs();
    while (line.length && Array.isArray(line[0])) { line = line[0]; }  // a MultiLineString's first
    if (!line.length || named[f.properties.code]) { return; }
    named[f.properties.code] = true;
    var places = [0.5, 0.35, 0.65, 0.2, 0.8].map(function (at) { return line[Math.floor(at * (line.length - 1))]; });
    return map.scLabels.add({ latlng: places[0], places: places, text: f.properties.name, kind: "corridor",
                              priority: 2, minZoom: 5, centred: true, attrs: { "data-corridor": f.properties.code } });
  }

  function labelZone(map, f, layer) {
    var kind = f.properties.kind;
    return map.scLabels.add({ latlng: layer.getBounds().getCenter(), text: f.properties.name, kind: "zone",
                              priority: kind === "border_post" ? 1 : 3, minZoom: ZONE_LABEL_ZOOM[kind] || 9,
                              centred: true, attrs: { "data-zone": f.properties.code, "data-kind": kind } });
  }

  function corridors(map, layers, only) {
    // The labels go with the layers: a page that redraws corridors removes the group.
    var group = L.featureGroup().addTo(map), named = {}, labels = [];
    group.on("remove", function () { labels.forEach(map.scLabels.remove); });
    L.geoJSON(layers.corridors, {
      pane: "sc-corridors",
      filter: function (f) { return !only || f.properties.code === only; },
      style: function (f) { return { className: "sc-corridor-" + f.properties.part }; },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(text(f.properties.name), { sticky: true });
        if (f.properties.part === "route") { labels.push(labelCorridor(map, f, layer, named)); }
      },
    }).addTo(group);
    L.geoJSON(layers.zones, {
      pane: "sc-corridors",
      style: function (f) { return { className: "sc-zone sc-zone-" + f.properties.kind }; },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(text(f.properties.name + " (" + f.properties.code + ")"));
        layer.on("add", function () { layer.getElement().setAttribute("data-zone", f.properties.code); });
        labels.push(labelZone(map, f, layer));
      },
    }).addTo(group);
    return group;
  }

  // A truck's state from the severities of its open alerts, the same scheme everywhere: red for
  // a critical or high alert, amber for a medium or low one, green for none.
  var RANK = { critical: 0, high: 1, medium: 2, low: 3 };
  function stateOf(severities) {
    var worst = 9;
    severities.forEach(function (s) { worst = Math.min(worst, s in RANK ? RANK[s] : 9); });
    return worst <= 1 ? "alert" : worst <= 3 ? "warning" : "ok";
  }

  // Paint a truck marker with its state (classes truck-ok, truck-warning, truck-alert).
  function paintTruck(marker, state) {
    var path = marker.getElement();
    if (!path) { return; }
    path.classList.remove("truck-ok", "truck-warning", "truck-alert");
    path.classList.add("truck-" + state);
    path.setAttribute("data-colour", state);
  }

  // A small DOM builder: text only, never HTML strings from data.
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
    });
    return node;
  }

  // Leaflet puts a string tooltip or popup in as HTML: give it an element holding text instead.
  function text(value) { return el("span", {}, [value == null ? "" : String(value)]); }

  // A time as the page's language writes it, in the instance's zone (given by the page's
  // labels), to the second; the ISO text if the browser cannot.
  function time(iso, zone) {
    if (!iso) { return "—"; }
    var moment = new Date(iso);
    if (isNaN(moment.getTime())) { return iso; }
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined,
        { dateStyle: "medium", timeStyle: "medium", timeZone: zone || undefined }).format(moment);
    } catch (e) {
      return iso.replace("T", " ").slice(0, 19);
    }
  }

  return { getJSON: getJSON, baseMap: baseMap, corridors: corridors, stateOf: stateOf, paintTruck: paintTruck,
           el: el, text: text, time: time };
})();
