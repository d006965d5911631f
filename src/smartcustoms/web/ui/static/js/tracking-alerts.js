// The alert queue: the server renders the table; the live stream says when to fetch it again.
// While an operator has a form open the refresh waits, so nothing typed is lost.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var queue = document.getElementById("alert-queue");
  if (!queue || !window.EventSource) { return; }
  var pending = false, timer = null;

  function busy() {
    var active = document.activeElement;
    return !!queue.querySelector("details[open]") || (active && queue.contains(active) && active.tagName !== "BUTTON");
  }

  function refresh() {
    timer = null;
    if (busy()) { pending = true; return; }
    pending = false;
    htmx.ajax("GET", queue.dataset.rows, { target: "#alert-rows", swap: "outerHTML" });
  }

  function soon() { if (!timer) { timer = setTimeout(refresh, 250); } }

  queue.addEventListener("toggle", function () { if (pending) { soon(); } }, true);
  queue.addEventListener("focusout", function () { if (pending) { soon(); } });
  var source = new EventSource(queue.dataset.stream);
  source.addEventListener("alert", soon);
});
