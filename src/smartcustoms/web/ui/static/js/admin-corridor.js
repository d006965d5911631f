// The administration's corridor page: one corridor (route and buffer) and the zones on the
// offline base map, fitted to the corridor. Layers come from /api/tracking/map; tooltips are
// text nodes (SCTracking), never HTML.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("corridor-map");
  if (!root || !window.L) { return; }
  var T = SCTracking;
  var map = T.baseMap(root);
  T.getJSON(root.dataset.layers).then(function (layers) {
    var group = T.corridors(map, layers, root.dataset.corridor);
    if (group.getBounds().isValid()) { map.fitBounds(group.getBounds().pad(0.05)); }
    root.setAttribute("data-loaded", "true");
  }).catch(function (e) { console.warn("corridor map:", e.message); });
});
