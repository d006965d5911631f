// Map labels that do not pile up: towns, zones, corridors and trucks are labelled by divIcon
// markers, shown from their own zoom on, most important first, and a label that would overlap
// one already placed is left out until the map zooms in. Text only (never HTML from data), and
// each label's direction follows its text (dir=auto), so Arabic pages read them right.
"use strict";
window.SCLabels = (function () {
  var CHAR_PX = 6.5, HEIGHT_PX = 16, GAP_PX = 3;  // a label's box, estimated from its text

  function create(map) {
    map.createPane("sc-labels");
    map.getPane("sc-labels").style.zIndex = "450";  // above tracks and trucks, below popups
    var items = [], shown = L.layerGroup().addTo(map), pending = false;

    // item: {latlng, text, kind, priority, minZoom, centred, attrs}; a long feature (a
    // corridor) may offer other places for its label too, tried in turn: {places: [latlng…]}.
    function add(item) {
      var span = document.createElement("span");
      span.setAttribute("dir", "auto");
      span.textContent = item.text == null ? "" : String(item.text);
      var node = document.createElement("div");
      node.appendChild(span);
      Object.keys(item.attrs || {}).forEach(function (k) { node.setAttribute(k, item.attrs[k]); });
      item.marker = L.marker(item.latlng, {
        pane: "sc-labels", interactive: false, keyboard: false,
        icon: L.divIcon({
          html: node, iconSize: null,
          className: "sc-label sc-label-" + item.kind + (item.centred ? " sc-label-centred" : ""),
        }),
      });
      item.order = items.length;
      items.push(item);
      schedule();
      return item;
    }

    function move(item, latlng) { item.latlng = latlng; item.marker.setLatLng(latlng); schedule(); }

    function remove(item) {
      if (!item) { return; }  // a corridor named once leaves its other routes unlabelled
      shown.removeLayer(item.marker);
      items = items.filter(function (i) { return i !== item; });
    }

    function box(item, latlng) {
      var p = map.latLngToContainerPoint(latlng);
      var w = item.text.length * CHAR_PX + 8;
      var x = item.centred ? p.x - w / 2 : p.x + 4;  // side labels start just after the point
      return { x1: x - GAP_PX, y1: p.y - HEIGHT_PX / 2 - GAP_PX, x2: x + w + GAP_PX, y2: p.y + HEIGHT_PX / 2 + GAP_PX };
    }

    function overlaps(a, b) { return a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2; }

    function layout() {
      pending = false;
      var zoom = map.getZoom(), view = map.getBounds().pad(0.05), placed = [];
      items.slice().sort(function (a, b) { return a.priority - b.priority || a.order - b.order; })
        .forEach(function (item) {
          var visible = false;
          if (zoom >= item.minZoom) {
            visible = (item.places || [item.latlng]).some(function (latlng) {
              if (!view.contains(latlng)) { return false; }
              var b = box(item, latlng);
              if (placed.some(function (other) { return overlaps(b, other); })) { return false; }
              placed.push(b);
              item.marker.setLatLng(latlng);
              return true;
            });
          }
          if (visible && !shown.hasLayer(item.marker)) { shown.addLayer(item.marker); }
          if (!visible && shown.hasLayer(item.marker)) { shown.removeLayer(item.marker); }
        });
    }

    // One layout per frame, however many labels were added or moved in it.
    function schedule() {
      if (!pending) { pending = true; L.Util.requestAnimFrame(layout); }
    }

    map.on("zoomend moveend resize", schedule);
    return { add: add, move: move, remove: remove, layout: layout };
  }

  return { create: create };
})();
