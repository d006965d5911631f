// Shared by the command-centre map and the transit page: an offline base map (country borders
// from the vendored world-atlas TopoJSON), corridors and zones. No inline styles anywhere:
// vector layers get CSS classes (static/css/tracking.css), so the strict CSP holds.
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
    map.attributionControl.addAttribution("Natural Earth · world-atlas · Leaflet");
    map.setView(view || [-2.5, 34.0], 6);
    pane(map, "sc-countries", 200);
    pane(map, "sc-corridors", 300);
    getJSON(el.dataset.world).then(function (topo) {
      var land = topojson.feature(topo, topo.objects.countries);
      L.geoJSON(land, { interactive: false, className: "sc-country", pane: "sc-countries" }).addTo(map);
    }).catch(function (e) { console.warn("base map:", e.message); });
    return map;
  }

  function corridors(map, layers, only) {
    var group = L.featureGroup().addTo(map);
    L.geoJSON(layers.corridors, {
      pane: "sc-corridors",
      filter: function (f) { return !only || f.properties.code === only; },
      style: function (f) { return { className: "sc-corridor-" + f.properties.part }; },
      onEachFeature: function (f, layer) { layer.bindTooltip(text(f.properties.name), { sticky: true }); },
    }).addTo(group);
    L.geoJSON(layers.zones, {
      pane: "sc-corridors",
      style: function (f) { return { className: "sc-zone sc-zone-" + f.properties.kind }; },
      onEachFeature: function (f, layer) { layer.bindTooltip(text(f.properties.name + " (" + f.properties.code + ")")); },
    }).addTo(group);
    return group;
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

  return { getJSON: getJSON, baseMap: baseMap, corridors: corridors, el: el, text: text, time: time };
})();
