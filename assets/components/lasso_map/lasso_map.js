/* ProtLens lasso map: a plotly.js scatter whose lasso and box selection are drawn on an overlay.
 *
 * Plotly's own lasso re-tests every point and re-draws the whole WebGL scene on each mouse move
 * (throttled to 10 per second); with software WebGL that stalls the outline above ~10,000 points.
 * Here the outline is drawn on a 2-D canvas above the plot while the mouse moves, and the points
 * inside are found once, on release (even-odd rule in data coordinates, bounding-box prefilter),
 * then shown with one restyle.  Plotly keeps drawing, hover, legend, zoom and pan.
 *
 * LassoMap.mount(element, figure, options, onSelect) -> handle
 *   figure   plotly JSON ({data, layout}); customdata[i][0] of every point is its id
 *   options  {mode: "lasso" | "box" | "zoom" | "pan", height: px, standalone: bool}
 *   onSelect called with {seq, ids, lasso: [{x: [], y: []}], box: [{x: [x0, x1], y: [y0, y1]}]}
 *   handle   {clear(), setMode(mode), plot}
 */
(function () {
  "use strict";

  var MODES = [["lasso", "Lasso"], ["box", "Box"], ["zoom", "Zoom"], ["pan", "Pan"]];
  var CSS = [
    ".lm-bar{display:flex;gap:4px;align-items:center;font:13px sans-serif;margin:0 0 4px 0}",
    ".lm-bar button{border:1px solid #ccc;background:#fff;border-radius:4px;padding:2px 8px;",
    "cursor:pointer;font:inherit}",
    ".lm-bar button.on{background:#264653;color:#fff;border-color:#264653}",
    ".lm-count{margin-left:8px;color:#444}",
    ".lm-wrap{position:relative}",
    ".lm-overlay{position:absolute;left:0;top:0;pointer-events:none}"
  ].join("");

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  /* Drop vertices within 1 px of the previous one: same shape, fewer edges to test. */
  function simplify(pts) {
    var out = [pts[0]];
    for (var i = 1; i < pts.length; i++) {
      var p = out[out.length - 1];
      if (Math.abs(pts[i][0] - p[0]) + Math.abs(pts[i][1] - p[1]) >= 1) out.push(pts[i]);
    }
    return out;
  }

  /* Indices of the points (xs, ys) inside the polygon (px, py), even-odd rule. */
  function insidePolygon(xs, ys, px, py) {
    var n = px.length, hit = [];
    var x0 = Math.min.apply(null, px), x1 = Math.max.apply(null, px);
    var y0 = Math.min.apply(null, py), y1 = Math.max.apply(null, py);
    for (var k = 0; k < xs.length; k++) {
      var x = xs[k], y = ys[k];
      if (!(x >= x0 && x <= x1 && y >= y0 && y <= y1)) continue;
      var inside = false;
      for (var i = 0, j = n - 1; i < n; j = i++) {
        if ((py[i] > y) !== (py[j] > y) &&
            x < px[i] + (y - py[i]) * (px[j] - px[i]) / (py[j] - py[i])) inside = !inside;
      }
      if (inside) hit.push(k);
    }
    return hit;
  }

  function insideBox(xs, ys, bx, by) {
    var x0 = Math.min(bx[0], bx[1]), x1 = Math.max(bx[0], bx[1]);
    var y0 = Math.min(by[0], by[1]), y1 = Math.max(by[0], by[1]);
    var hit = [];
    for (var k = 0; k < xs.length; k++) {
      if (xs[k] >= x0 && xs[k] <= x1 && ys[k] >= y0 && ys[k] <= y1) hit.push(k);
    }
    return hit;
  }

  function mount(root, figure, options, onSelect) {
    options = options || {};
    root.innerHTML = "";
    if (!document.getElementById("lm-style")) {
      var style = el("style");
      style.id = "lm-style";
      style.textContent = CSS;
      document.head.appendChild(style);
    }
    var bar = el("div", "lm-bar"), wrap = el("div", "lm-wrap"), plot = el("div", "lm-plot");
    var overlay = el("canvas", "lm-overlay"), count = el("span", "lm-count");
    var buttons = {};
    var state = {mode: options.mode || "lasso", picked: null, lasso: [], box: [], drag: null};
    MODES.forEach(function (m) {
      var b = el("button", null, m[1]);
      b.type = "button";
      b.title = m[0] === "lasso" || m[0] === "box" ?
        m[1] + " select (hold Shift to add to the selection)" : m[1];
      b.onclick = function () { setMode(m[0]); };
      buttons[m[0]] = b;
      bar.appendChild(b);
    });
    var clearButton = el("button", null, "Clear");
    clearButton.type = "button";
    clearButton.onclick = function () { clear(); report(); };
    bar.appendChild(clearButton);
    if (options.standalone) {
      var save = el("button", null, "Save ids");
      save.type = "button";
      save.title = "Download the ids of the selected points (one per line)";
      save.onclick = function () {
        var blob = new Blob([selectedIds().join("\n") + "\n"], {type: "text/plain"});
        var a = el("a");
        a.href = URL.createObjectURL(blob);
        a.download = "selection_ids.txt";
        a.click();
      };
      bar.appendChild(save);
    }
    bar.appendChild(count);
    wrap.appendChild(plot);
    wrap.appendChild(overlay);
    root.appendChild(bar);
    root.appendChild(wrap);

    var layout = Object.assign({}, figure.layout || {});
    if (options.height) layout.height = options.height;
    var config = {displaylogo: false, responsive: true, scrollZoom: true,
                  modeBarButtonsToRemove: ["lasso2d", "select2d", "zoom2d", "pan2d"]};

    function plotArea() {
      var s = plot._fullLayout._size;
      return {l: s.l, t: s.t, w: s.w, h: s.h};
    }

    function sizeOverlay() {
      overlay.width = plot.clientWidth;
      overlay.height = plot.clientHeight;
    }

    function setMode(mode) {
      state.mode = mode;
      Object.keys(buttons).forEach(function (k) { buttons[k].classList.toggle("on", k === mode); });
      var drag = mode === "zoom" || mode === "pan" ? mode : false;
      if (plot._fullLayout) Plotly.relayout(plot, {dragmode: drag});
      else layout.dragmode = drag;
    }

    function toData(p) {
      var xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis;
      return [xa.p2d(p[0] - xa._offset), ya.p2d(p[1] - ya._offset)];
    }

    function traces() {  // visible point traces with their decoded arrays
      return plot._fullData.map(function (t, i) {
        return {index: i, x: t.x, y: t.y, ids: t.customdata,
                visible: t.visible === true && t.x && t.x.length > 0};
      });
    }

    function selectedIds() {
      if (!state.picked) return [];
      var ids = [];
      traces().forEach(function (t) {
        (state.picked[t.index] || []).forEach(function (k) {
          var c = t.ids ? t.ids[k] : null;
          if (c !== null && c !== undefined) ids.push(String(Array.isArray(c) ? c[0] : c));
        });
      });
      return ids;
    }

    function show() {
      var n = 0, all = traces();
      var sel = all.map(function (t) {
        if (!state.picked) return null;
        var p = state.picked[t.index] || [];
        n += p.length;
        return p;
      });
      Plotly.restyle(plot, {selectedpoints: sel, "unselected.marker.opacity": 0.12},
                     all.map(function (t) { return t.index; }));
      count.textContent = state.picked ? n.toLocaleString("en-US") + " selected" : "";
    }

    function report() {
      if (!onSelect) return;
      onSelect({seq: Date.now() + Math.random(), ids: selectedIds(),
                lasso: state.lasso, box: state.box});
    }

    function clear() {
      state.picked = null;
      state.lasso = [];
      state.box = [];
      Plotly.restyle(plot, {selectedpoints: [null]});
      count.textContent = "";
    }

    function finish(shape, add) {
      var found = {};
      traces().forEach(function (t) {
        if (!t.visible) return;
        found[t.index] = shape.lasso ?
          insidePolygon(t.x, t.y, shape.lasso.x, shape.lasso.y) :
          insideBox(t.x, t.y, shape.box.x, shape.box.y);
      });
      if (add && state.picked) {
        Object.keys(found).forEach(function (i) {
          var merged = new Set(state.picked[i] || []);
          found[i].forEach(function (k) { merged.add(k); });
          found[i] = Array.from(merged).sort(function (a, b) { return a - b; });
        });
        Object.keys(state.picked).forEach(function (i) {
          if (!(i in found)) found[i] = state.picked[i];
        });
      } else {
        state.lasso = [];
        state.box = [];
      }
      state.picked = found;
      if (shape.lasso) state.lasso.push(shape.lasso);
      else state.box.push(shape.box);
      show();
      report();
    }

    function drawOutline() {
      state.frame = null;
      var ctx = overlay.getContext("2d"), d = state.drag;
      ctx.clearRect(0, 0, overlay.width, overlay.height);
      if (!d) return;
      ctx.strokeStyle = "#e76f51";
      ctx.fillStyle = "rgba(231,111,81,0.08)";
      ctx.lineWidth = 1.5;
      ctx.setLineDash([5, 3]);
      ctx.beginPath();
      if (state.mode === "box") {
        var a = d.points[0], b = d.points[d.points.length - 1];
        ctx.rect(a[0], a[1], b[0] - a[0], b[1] - a[1]);
      } else {
        d.points.forEach(function (p, i) { i ? ctx.lineTo(p[0], p[1]) : ctx.moveTo(p[0], p[1]); });
        ctx.closePath();
      }
      ctx.fill();
      ctx.stroke();
    }

    function local(e) {
      var r = plot.getBoundingClientRect();
      return [e.clientX - r.left, e.clientY - r.top];
    }

    function onDown(e) {
      if (e.button !== 0 || (state.mode !== "lasso" && state.mode !== "box")) return;
      var p = local(e), a = plotArea();
      if (p[0] < a.l || p[0] > a.l + a.w || p[1] < a.t || p[1] > a.t + a.h) return;
      e.stopPropagation();
      e.preventDefault();
      sizeOverlay();
      state.drag = {points: [p], add: e.shiftKey};
      window.addEventListener("mousemove", onMove, true);
      window.addEventListener("mouseup", onUp, true);
    }

    function onMove(e) {
      e.stopPropagation();
      state.drag.points.push(local(e));
      if (!state.frame) state.frame = requestAnimationFrame(drawOutline);
    }

    function onUp(e) {
      e.stopPropagation();
      window.removeEventListener("mousemove", onMove, true);
      window.removeEventListener("mouseup", onUp, true);
      var d = state.drag;
      state.drag = null;
      drawOutline();
      d.points.push(local(e));
      if (state.mode === "box") {
        var a = toData(d.points[0]), b = toData(d.points[d.points.length - 1]);
        if (a[0] === b[0] || a[1] === b[1]) return;
        finish({box: {x: [a[0], b[0]], y: [a[1], b[1]]}}, d.add);
      } else {
        var pts = simplify(d.points);
        if (pts.length < 3) return;
        var data = pts.map(toData);
        finish({lasso: {x: data.map(function (p) { return p[0]; }),
                        y: data.map(function (p) { return p[1]; })}}, d.add);
      }
    }

    plot.addEventListener("mousedown", onDown, true);
    setMode(state.mode);
    var ready = Plotly.newPlot(plot, figure.data, layout, config).then(function () {
      sizeOverlay();
      plot.on("plotly_relayout", sizeOverlay);
      return plot;
    });
    return {plot: plot, ready: ready, clear: clear, setMode: setMode, selectedIds: selectedIds,
            insidePolygon: insidePolygon};
  }

  window.LassoMap = {mount: mount, insidePolygon: insidePolygon, insideBox: insideBox};
})();
