// The review station's image viewer: windowing, contrast, material colours, zoom and pan, the
// machine's regions and the analyst's marks, all drawn on one <canvas>.
//
// The server sends the scan once as a "data" PNG (GET /api/scans/{id}/attenuation.png):
// attenuation α = (256·R + G) / alphaScale and the material class in B (0 unknown, 1 organic,
// 2 mixed, 3 metal). Windowing and colouring happen here, so moving a slider redraws at once.
// No inline script or style anywhere (the CSP forbids both): data comes from the page's
// <script type="application/json" id="scan-data"> block and state is shown through attributes.
(function () {
  "use strict";

  var COLOURS = { 1: [1.0, 0.55, 0.0], 2: [0.1, 0.62, 0.1], 3: [0.12, 0.35, 0.95] };
  var MIN_MARK_PX = 3;

  function init(root) {
    var canvas = root.querySelector("canvas");
    var g = canvas.getContext("2d");
    var data = JSON.parse(document.getElementById("scan-data").textContent);
    var rows = data.rows, cols = data.columns;
    var alpha = null, cls = null;
    var view = document.createElement("canvas"); // the windowed image at 1:1
    view.width = cols;
    view.height = rows;
    var viewCtx = view.getContext("2d");
    var state = {
      low: 0, high: 6, gamma: 1, colour: "material", invert: false, machine: true,
      scale: 1, ox: 0, oy: 0, marking: false, drag: null, marks: []
    };
    var controls = {};
    root.querySelectorAll("[data-control]").forEach(function (el) {
      controls[el.getAttribute("data-control")] = el;
    });
    var windowText = root.querySelector("[data-window-text]");
    var markButton = root.querySelector("[data-action=mark]");
    var list = document.querySelector("[data-marks-list]");
    var template = document.querySelector("[data-mark-template]");
    var words = document.querySelector("[data-mark-words]");
    var opened = Date.now();

    function size() {
      var width = Math.max(320, Math.round(canvas.clientWidth || root.clientWidth));
      var height = Math.round(Math.min(Math.max(width * rows / cols, 240), 640));
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
    }

    function fit() {
      size();
      state.scale = Math.min(canvas.width / cols, canvas.height / rows);
      state.ox = (canvas.width - cols * state.scale) / 2;
      state.oy = (canvas.height - rows * state.scale) / 2;
      draw();
    }

    function percentile(values, q) {
      var sample = [];
      var step = Math.max(1, Math.floor(values.length / 50000));
      for (var i = 0; i < values.length; i += step) sample.push(values[i]);
      sample.sort(function (a, b) { return a - b; });
      return sample[Math.min(sample.length - 1, Math.floor(q * sample.length))];
    }

    // Windowed, contrast-adjusted, coloured pixels into the 1:1 view canvas.
    function render() {
      if (!alpha) return;
      var out = viewCtx.createImageData(cols, rows);
      var px = out.data;
      var span = Math.max(state.high - state.low, 1e-3);
      var gamma = state.gamma, material = state.colour === "material", invert = state.invert;
      for (var i = 0, j = 0; i < alpha.length; i++, j += 4) {
        var v = (alpha[i] - state.low) / span;
        v = v < 0 ? 0 : (v > 1 ? 1 : v);
        if (gamma !== 1) v = Math.pow(v, gamma);
        if (invert) v = 1 - v;
        var hue = material ? COLOURS[cls[i]] : null;
        if (hue) {
          var shade = v * (1 - 0.6 * v);
          px[j] = 255 * (1 - v + shade * hue[0]);
          px[j + 1] = 255 * (1 - v + shade * hue[1]);
          px[j + 2] = 255 * (1 - v + shade * hue[2]);
        } else {
          px[j] = px[j + 1] = px[j + 2] = 255 * (1 - v);
        }
        px[j + 3] = 255;
      }
      viewCtx.putImageData(out, 0, 0);
      root.setAttribute("data-window-low", state.low.toFixed(2));
      root.setAttribute("data-window-high", state.high.toFixed(2));
      if (windowText) windowText.textContent = "α " + state.low.toFixed(2) + " – " + state.high.toFixed(2);
      draw();
    }

    function box(b, colour, dashed, label) {
      var x = state.ox + b[0] * state.scale, y = state.oy + b[1] * state.scale;
      var w = (b[2] - b[0]) * state.scale, h = (b[3] - b[1]) * state.scale;
      g.save();
      g.strokeStyle = colour;
      g.lineWidth = 2;
      g.setLineDash(dashed ? [6, 4] : []);
      g.strokeRect(x, y, Math.max(w, 2), Math.max(h, 2));
      if (label) {
        g.font = "12px system-ui, sans-serif";
        g.fillStyle = colour;
        g.fillText(label, x + 2, Math.max(12, y - 4));
      }
      g.restore();
    }

    // The container frame the analysis found (roof, floor, ends), drawn with the machine's
    // regions: dotted cyan, orange when the analysis was unsure of it.
    function frameLines() {
      var frame = data.frame || { lines: [] };
      g.save();
      g.strokeStyle = frame.unsure ? "#ff8c00" : "#00b7c7";
      g.lineWidth = 1.5;
      g.setLineDash([2, 3]);
      frame.lines.forEach(function (line) {
        if (!line.length) return;
        g.beginPath();
        line.forEach(function (p, n) {
          var x = state.ox + p[0] * state.scale;
          var y = state.oy + p[1] * state.scale;
          if (n === 0) { g.moveTo(x, y); } else { g.lineTo(x, y); }
        });
        g.stroke();
      });
      g.restore();
    }

    function draw() {
      g.setTransform(1, 0, 0, 1, 0, 0);
      g.fillStyle = "#1c2430";
      g.fillRect(0, 0, canvas.width, canvas.height);
      if (!alpha) return;
      g.imageSmoothingEnabled = state.scale < 1;
      g.drawImage(view, state.ox, state.oy, cols * state.scale, rows * state.scale);
      if (state.machine) {
        frameLines();
        data.machine.forEach(function (m) { box(m.box, "#e3120b", true, m.label); });
      }
      data.reviewed.forEach(function (m) { box(m.box, "#b48ce6", false, m.label); });
      state.marks.forEach(function (m, n) { box(m.box, "#ffd400", false, String(n + 1)); });
      if (state.drag && state.drag.kind === "mark" && state.drag.box) {
        box(state.drag.box, "#ffd400", true, "");
      }
    }

    function toImage(event) {
      var rect = canvas.getBoundingClientRect();
      var x = (event.clientX - rect.left) * canvas.width / rect.width;
      var y = (event.clientY - rect.top) * canvas.height / rect.height;
      return { x: x, y: y, col: (x - state.ox) / state.scale, row: (y - state.oy) / state.scale };
    }

    function clampBox(a, b) {
      var c0 = Math.max(0, Math.floor(Math.min(a.col, b.col)));
      var r0 = Math.max(0, Math.floor(Math.min(a.row, b.row)));
      var c1 = Math.min(cols, Math.ceil(Math.max(a.col, b.col)));
      var r1 = Math.min(rows, Math.ceil(Math.max(a.row, b.row)));
      return [c0, r0, c1, r1];
    }

    function zoom(factor, cx, cy) {
      var next = Math.min(Math.max(state.scale * factor, 0.05), 16);
      cx = cx === undefined ? canvas.width / 2 : cx;
      cy = cy === undefined ? canvas.height / 2 : cy;
      state.ox = cx - (cx - state.ox) * next / state.scale;
      state.oy = cy - (cy - state.oy) * next / state.scale;
      state.scale = next;
      root.setAttribute("data-zoom", state.scale.toFixed(3));
      draw();
    }

    function writePayload() {
      var payload = JSON.stringify(state.marks.map(function (m) {
        return { col0: m.box[0], row0: m.box[1], col1: m.box[2], row1: m.box[3], label: m.label };
      }));
      document.querySelectorAll("[data-regions]").forEach(function (input) { input.value = payload; });
      root.setAttribute("data-marks", String(state.marks.length));
    }

    function syncMarks() {
      writePayload();
      if (!list || !template) return;
      list.querySelectorAll("li[data-mark]").forEach(function (li) { li.remove(); });
      var empty = list.querySelector("[data-marks-empty]");
      if (empty) empty.hidden = state.marks.length > 0;
      state.marks.forEach(function (m, n) {
        var li = template.content.firstElementChild.cloneNode(true);
        li.setAttribute("data-mark", String(n + 1));
        var b = m.box;
        li.querySelector("[data-mark-text]").textContent =
          words.getAttribute("data-region") + " " + (n + 1) + ": " + words.getAttribute("data-cols") +
          " " + b[0] + "–" + b[2] + ", " + words.getAttribute("data-rows") + " " + b[1] + "–" + b[3];
        var label = li.querySelector("[data-mark-label]");
        label.value = m.label;
        label.addEventListener("input", function () { m.label = label.value; writePayload(); });
        li.querySelector("[data-mark-remove]").addEventListener("click", function () {
          state.marks.splice(n, 1);
          syncMarks();
          draw();
        });
        list.appendChild(li);
      });
    }

    canvas.addEventListener("mousedown", function (event) {
      var p = toImage(event);
      state.drag = state.marking
        ? { kind: "mark", start: p, box: null }
        : { kind: "pan", x: p.x, y: p.y, ox: state.ox, oy: state.oy };
      event.preventDefault();
    });
    window.addEventListener("mousemove", function (event) {
      if (!state.drag) return;
      var p = toImage(event);
      if (state.drag.kind === "pan") {
        state.ox = state.drag.ox + (p.x - state.drag.x);
        state.oy = state.drag.oy + (p.y - state.drag.y);
      } else {
        state.drag.box = clampBox(state.drag.start, p);
      }
      draw();
    });
    window.addEventListener("mouseup", function () {
      var drag = state.drag;
      state.drag = null;
      if (drag && drag.kind === "mark" && drag.box) {
        var b = drag.box;
        if (b[2] - b[0] >= MIN_MARK_PX && b[3] - b[1] >= MIN_MARK_PX) {
          state.marks.push({ box: b, label: "" });
          syncMarks();
        }
      }
      draw();
    });
    canvas.addEventListener("wheel", function (event) {
      event.preventDefault();
      var p = toImage(event);
      zoom(event.deltaY < 0 ? 1.25 : 0.8, p.x, p.y);
    }, { passive: false });

    root.querySelector("[data-action=zoom-in]").addEventListener("click", function () { zoom(1.5); });
    root.querySelector("[data-action=zoom-out]").addEventListener("click", function () { zoom(1 / 1.5); });
    root.querySelector("[data-action=fit]").addEventListener("click", fit);
    markButton.addEventListener("click", function () {
      state.marking = !state.marking;
      markButton.setAttribute("aria-pressed", state.marking ? "true" : "false");
      canvas.classList.toggle("marking", state.marking);
    });

    function readControls() {
      var low = parseFloat(controls.low.value), high = parseFloat(controls.high.value);
      if (high <= low) {  // keep the window open: the handle being moved pushes the other
        if (document.activeElement === controls.low) high = Math.min(low + 0.05, parseFloat(controls.high.max));
        else low = Math.max(high - 0.05, 0);
        controls.low.value = String(low);
        controls.high.value = String(high);
      }
      state.low = low;
      state.high = high;
      state.gamma = parseFloat(controls.gamma.value);
      state.colour = controls.colour.value;
      state.invert = controls.invert.checked;
      state.machine = controls.machine.checked;
      render();
    }
    ["low", "high", "gamma", "colour", "invert", "machine"].forEach(function (name) {
      controls[name].addEventListener("input", readControls);
      controls[name].addEventListener("change", readControls);
    });

    document.querySelectorAll("form[data-decision-form]").forEach(function (form) {
      form.addEventListener("submit", function () {
        writePayload();
        var seconds = form.querySelector("[data-seconds-open]");
        if (seconds) seconds.value = String(Math.round((Date.now() - opened) / 1000));
      });
    });
    window.addEventListener("resize", fit);

    fetch(data.src, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("image: HTTP " + response.status);
        return response.blob();
      })
      .then(function (blob) {
        return createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
      })
      .then(function (bitmap) {
        var scratch = document.createElement("canvas");
        scratch.width = cols;
        scratch.height = rows;
        var sctx = scratch.getContext("2d", { willReadFrequently: true });
        sctx.drawImage(bitmap, 0, 0);
        var raw = sctx.getImageData(0, 0, cols, rows).data;
        alpha = new Float32Array(rows * cols);
        cls = new Uint8Array(rows * cols);
        for (var i = 0, j = 0; i < alpha.length; i++, j += 4) {
          alpha[i] = (raw[j] * 256 + raw[j + 1]) / data.alphaScale;
          cls[i] = raw[j + 2];
        }
        var top = Math.min(16, Math.ceil(percentile(alpha, 0.999) + 0.5));
        [controls.low, controls.high].forEach(function (el) { el.max = String(top); });
        state.high = Math.max(0.5, Math.round(percentile(alpha, 0.995) * 20) / 20);
        controls.high.value = String(state.high);
        controls.low.value = "0";
        root.setAttribute("data-machine-regions", String(data.machine.length));
        fit();
        render();
        syncMarks();
        root.setAttribute("data-ready", "true");
      })
      .catch(function (error) {
        root.setAttribute("data-ready", "error");
        root.setAttribute("data-error", String(error));
        var message = root.querySelector("[data-viewer-error]");
        if (message) message.hidden = false;
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-scan-viewer]").forEach(init);
  });
})();
