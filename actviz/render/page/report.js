(function(){
"use strict";
const DATA = JSON.parse(document.getElementById("actviz-data").textContent);
const ACTS = {}; DATA.activations.forEach(a => { ACTS[a.name] = a; });
const STATE = {};   // name -> key of the chosen combination ("i|j|...")
const DRAWN = {};   // name -> the panel has been drawn
const COLORS = ["#4C72B0","#DD8452","#55A868","#C44E52","#8172B3","#937860","#DA8BC3","#8C8C8C","#CCB974","#64B5CD"];
const CONFIG = {responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d","lasso2d"]};
const PRIME = "\u2032", DPRIME = "\u2033";
window.actvizReport = {data: DATA, state: STATE, firstPlot: null};

function combo(name){ const a = ACTS[name]; return a.combos[STATE[name]]; }
function fmt(v){ if (v === null || v === undefined) return "—"; return String(v).replace("-", "\u2212"); }

// ------------------------------------------------------------------ panels
function panelFigure(name){
  const a = ACTS[name], c = combo(name);
  if (!c) return null;
  const v = c.curves, x = a.x[v.xi];
  const traces = [
    {x: x, y: v.f, name: "f", mode: "lines", line: {color: "#4C72B0", width: 2, simplify: false}, xaxis: "x", yaxis: "y",
     hovertemplate: "f(%{x:.4g}) = %{y:.6g}<extra></extra>"},
    {x: x, y: v.df, name: "f" + PRIME, mode: "lines", line: {color: "#DD8452", width: 2, simplify: false}, xaxis: "x", yaxis: "y2",
     hovertemplate: "f" + PRIME + "(%{x:.4g}) = %{y:.6g}<extra></extra>"},
    {x: x, y: v.d2f, name: "f" + DPRIME, mode: "lines", line: {color: "#55A868", width: 2, simplify: false}, xaxis: "x", yaxis: "y3",
     hovertemplate: "f" + DPRIME + "(%{x:.4g}) = %{y:.6g}<extra></extra>"}
  ];
  if (v.kinks.length){
    traces.push({x: v.kinks.map(k => k.x), y: v.kinks.map(k => k.f), name: "kink", mode: "markers",
      marker: {symbol: "diamond", size: 9, color: "#4C72B0", line: {color: "#fff", width: 1}}, xaxis: "x", yaxis: "y",
      hovertemplate: "kink at x = %{x:.4g}: f = %{y:.6g}<extra></extra>", showlegend: false});
    traces.push({x: v.kinks.map(k => k.x), y: v.kinks.map(k => k.df), name: "f" + PRIME + " used at kink",
      mode: "markers+text", text: v.kinks.map(k => "f" + PRIME + "(" + fmt(k.x) + ") = " + fmt(k.df)),
      textposition: "top right", textfont: {size: 11, color: "#a0522d"}, cliponaxis: false,
      marker: {symbol: "diamond", size: 9, color: "#DD8452", line: {color: "#fff", width: 1}}, xaxis: "x", yaxis: "y2",
      hovertemplate: "value used at the kink: f" + PRIME + "(%{x:.4g}) = %{y:.6g}<extra></extra>", showlegend: false});
  }
  const shapes = [];
  v.dead.forEach(r => shapes.push({type: "rect", xref: "x", yref: "paper", x0: r[0], x1: r[1], y0: 0, y1: 1,
    fillcolor: "rgba(196,78,82,0.16)", line: {width: 0}, layer: "below"}));
  v.saturated.forEach(r => shapes.push({type: "rect", xref: "x", yref: "paper", x0: r[0], x1: r[1], y0: 0, y1: 1,
    fillcolor: "rgba(221,170,51,0.2)", line: {width: 0}, layer: "below"}));
  const axis = {zeroline: true, zerolinecolor: "#bbb", gridcolor: "#eee"};
  const layout = {
    margin: {l: 48, r: 12, t: 8, b: 36}, showlegend: false, hovermode: "x", hoversubplots: "axis",
    paper_bgcolor: "#fff", plot_bgcolor: "#fff", font: {size: 12},
    xaxis: Object.assign({anchor: "y3", range: (a.range || DATA.range).slice()}, axis),
    yaxis: Object.assign({domain: [0.5, 1], title: {text: "f"}}, axis),
    yaxis2: Object.assign({domain: [0.26, 0.46], title: {text: "f" + PRIME}}, axis),
    yaxis3: Object.assign({domain: [0, 0.22], title: {text: "f" + DPRIME}}, axis),
    shapes: shapes
  };
  return {traces: traces, layout: layout};
}

function drawPanel(name){
  const fig = panelFigure(name);
  const el = document.getElementById("plot-" + name);
  if (!fig || !el) return;
  const first = !DRAWN[name];
  DRAWN[name] = true;
  const p = Plotly.react(el, fig.traces, fig.layout, CONFIG);
  if (first && window.actvizReport.firstPlot === null){
    p.then(() => { if (window.actvizReport.firstPlot === null) window.actvizReport.firstPlot = performance.now(); });
  }
}

// ------------------------------------------------------------------ the property table
function rowCells(name, row){
  const cells = {};
  cells.activation = null;  // the name and its link do not change
  cells.params = {text: row.params_text || "—", sort: row.params_text};
  DATA.keys.forEach(k => { const c = row.cells[k]; cells[k] = {text: c.text, sort: JSON.stringify(c.sort), bad: !c.agrees}; });
  let agree = row.disagree.length ? "\u2717 " + row.disagree.join(", ") : "\u2713 agree";
  if (!row.declared) agree = "measured only";
  cells.agreement = {text: agree, sort: agree};
  const e = row.autograd_max_error;
  cells.autograd = {text: e === null ? "\u221e" : (e === 0 ? "0" : e.toExponential(1)), sort: String(e)};
  return cells;
}

function updateRow(name){
  const tr = document.querySelector('#properties tr[data-activation="' + name + '"]');
  const c = combo(name);
  if (!tr || !c) return;
  const cells = rowCells(name, c.row);
  tr.querySelectorAll("td").forEach(td => {
    const col = td.dataset.col, v = cells[col];
    if (!v) return;
    td.textContent = v.text;
    td.dataset.sort = v.sort;
    td.classList.toggle("disagree", !!v.bad);
  });
}

function sortValue(td, type){
  const s = td.dataset.sort;
  if (type === "text") return s.toLowerCase();
  let v;
  try { v = JSON.parse(s); } catch (err) { v = s; }
  const num = t => t === "inf" ? Infinity : t === "-inf" ? -Infinity : (t === null ? Infinity : Number(t));
  if (Array.isArray(v)) return v.map(num);
  if (typeof v === "number" || v === "inf" || v === "-inf" || v === null) return [num(v)];
  if (typeof v === "boolean") return [v ? 1 : 0];
  return String(v).toLowerCase();
}

function cmp(a, b){
  if (Array.isArray(a) && Array.isArray(b)){
    for (let i = 0; i < Math.min(a.length, b.length); i++){ if (a[i] < b[i]) return -1; if (a[i] > b[i]) return 1; }
    return a.length - b.length;
  }
  if (Array.isArray(a)) return -1; if (Array.isArray(b)) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function setupTable(){
  const table = document.getElementById("properties");
  const ths = Array.from(table.querySelectorAll("thead th"));
  ths.forEach((th, i) => th.addEventListener("click", () => {
    const asc = th.getAttribute("aria-sort") !== "ascending";
    ths.forEach(t => t.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const key = r => sortValue(r.cells[i], th.dataset.type);
    rows.sort((r1, r2) => { const d = cmp(key(r1), key(r2)); return asc ? d : -d; });
    rows.forEach(r => body.appendChild(r));
  }));
  const input = document.getElementById("filter");
  const names = ths.map(th => th.dataset.col);
  const labels = ths.map(th => th.textContent.replace(/\u00ad/g, "").toLowerCase());
  function colIndex(word){
    word = word.toLowerCase().replace(/ /g, "_");
    let i = names.indexOf(word);
    if (i < 0) i = labels.indexOf(word.replace(/_/g, " "));
    if (i < 0) i = names.findIndex(n => n.startsWith(word));
    return i;
  }
  // words: a row shows if it holds ANY of them (gelu swish: both); column=value terms: ALL must hold
  function apply(){
    const terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    const cols = [], words = [];
    terms.forEach(t => {
      const eq = t.indexOf("="), i = eq > 0 ? colIndex(t.slice(0, eq)) : -1;
      if (i >= 0) cols.push([i, t.slice(eq + 1)]); else words.push(t);
    });
    let shown = 0;
    Array.from(table.tBodies[0].rows).forEach(tr => {
      const text = tr.textContent.toLowerCase();
      const ok = (!words.length || words.some(w => text.indexOf(w) >= 0)) &&
        cols.every(([i, want]) => tr.cells[i].textContent.toLowerCase().indexOf(want) >= 0);
      tr.hidden = !ok;
      if (ok) shown++;
    });
    document.getElementById("shown").textContent = shown + " of " + table.tBodies[0].rows.length + " shown";
  }
  input.addEventListener("input", apply);
  apply();
}

// ------------------------------------------------------------------ controls
function setupControls(){
  document.querySelectorAll("[data-param]").forEach(el => {
    const dot = el.dataset.param.lastIndexOf(".");
    const name = el.dataset.param.slice(0, dot);
    const i = Number(el.dataset.index);
    const handler = () => {
      const parts = STATE[name].split("|");
      parts[i] = String(el.value);
      const key = parts.join("|");
      const out = el.parentNode.querySelector("output");
      if (out) out.textContent = ACTS[name].params[i].labels[Number(el.value)];
      const panel = document.getElementById("act-" + name);
      if (!ACTS[name].combos[key]){ panel.classList.add("missing"); return; }
      panel.classList.remove("missing");
      STATE[name] = key;
      const c = combo(name);
      panel.querySelector(".js-formula").textContent = c.formula;
      panel.querySelector(".js-dformula").textContent = c.derivative_formula;
      panel.querySelector(".js-dformula").parentNode.hidden = !c.derivative_formula;
      drawPanel(name);
      updateRow(name);
      if (overlayChosen().indexOf(name) >= 0) drawOverlay();
    };
    el.addEventListener("input", handler);
    el.addEventListener("change", handler);
  });
}

// ------------------------------------------------------------------ overlay
function overlayChosen(){
  return Array.from(document.querySelectorAll("[data-overlay]")).filter(b => b.checked).map(b => b.dataset.overlay);
}
function drawOverlay(){
  const what = document.querySelector('input[name="overlay-what"]:checked').value;
  const sym = {f: "f", df: "f" + PRIME, d2f: "f" + DPRIME}[what];
  const traces = overlayChosen().map((name, idx) => {
    const a = ACTS[name], c = combo(name);
    return {x: a.x[c.curves.xi], y: c.curves[what], name: c.label, mode: "lines",
      line: {color: COLORS[idx % COLORS.length], width: 2, simplify: false,
        dash: ["solid","dash","dot","dashdot"][Math.floor(idx / COLORS.length) % 4]},
      hovertemplate: c.label + ": " + sym + "(%{x:.4g}) = %{y:.6g}<extra></extra>"};
  });
  const layout = {margin: {l: 48, r: 12, t: 10, b: 36}, hovermode: "x", legend: {orientation: "h", y: -0.12},
    xaxis: {range: DATA.range.slice(), zerolinecolor: "#bbb", gridcolor: "#eee"},
    yaxis: {title: {text: sym}, zerolinecolor: "#bbb", gridcolor: "#eee"}, paper_bgcolor: "#fff", plot_bgcolor: "#fff"};
  Plotly.react(document.getElementById("overlay-plot"), traces, layout, CONFIG);
}

// ------------------------------------------------------------------ training
function el(tag, attrs, text){
  const e = document.createElement(tag);
  Object.keys(attrs || {}).forEach(k => e.setAttribute(k, attrs[k]));
  if (text !== undefined) e.textContent = text;
  return e;
}
function pct(v){ return v === null || v === undefined ? "—" : (100 * v).toFixed(1) + "%"; }
// accuracies are fractions in the data and percent on the page (as on the command line)
function accPct(v){ return v === null || v === undefined ? "—" : (100 * v).toFixed(2); }
function ciPct(v){ return v ? "[" + accPct(v[0]) + ", " + accPct(v[1]) + "]" : "—"; }
function num(v, d){ return v === null || v === undefined ? "—" : Number(v).toFixed(d); }
function ci(v, d){ return v ? "[" + num(v[0], d) + ", " + num(v[1], d) + "]" : "—"; }

function statsTable(cfg){
  const t = el("table", {class: "stats"});
  const head = ["activation", "n", "test acc %", "95% CI", "± sd", "train loss", "95% CI", "± sd", "epochs to target", "dead", "saturated"];
  const tr = el("tr"); head.forEach(h => tr.appendChild(el("th", {}, h))); t.appendChild(el("thead")).appendChild(tr);
  const body = t.appendChild(el("tbody"));
  cfg.rows.forEach(r => {
    const row = el("tr", {"data-label": r.label});
    [r.label, r.n === null || r.n === undefined ? "—" : String(r.n), accPct(r.test_acc_mean), ciPct(r.test_acc_ci),
     accPct(r.test_acc_std), num(r.train_loss_mean, 4), ci(r.train_loss_ci, 4), num(r.train_loss_std, 4),
     r.epochs_to_target === null ? "—" : num(r.epochs_to_target, 1), pct(r.dead), pct(r.saturated)
    ].forEach(v => row.appendChild(el("td", {}, v)));
    if (r.definition) row.firstChild.setAttribute("title", r.definition);
    body.appendChild(row);
  });
  // activations defined by a formula (--define): the store keeps the formula, shown under the table
  const defs = cfg.rows.filter(r => r.definition).map(r => r.label + " is defined as " + r.definition);
  if (defs.length) t.appendChild(el("caption", {class: "definitions", style: "caption-side: bottom"}, defs.join("; ")));
  return t;
}

function pairsTable(cfg){
  const t = el("table", {class: "stats"});
  const tr = el("tr"); ["a", "b", "test acc a − b (points)", "95% CI", "p", "p (Holm)"].forEach(h => tr.appendChild(el("th", {}, h)));
  t.appendChild(el("thead")).appendChild(tr);
  const body = t.appendChild(el("tbody"));
  cfg.pairs.forEach(p => {
    const row = el("tr");
    [p.a, p.b, accPct(p.diff_mean), ciPct(p.ci), num(p.p, 3), num(p.p_holm, 3)].forEach(v => row.appendChild(el("td", {}, v)));
    body.appendChild(row);
  });
  return t;
}

function curveFigure(cfg, metric, title){
  const traces = [], scale = metric.endsWith("_acc") ? 100 : 1;
  const times = v => v.map(y => y === null ? null : scale * y);
  Object.keys(cfg.curves).forEach((label, i) => {
    const s = cfg.curves[label], color = COLORS[i % COLORS.length];
    const m = {mean: times(s[metric].mean), low: times(s[metric].low), high: times(s[metric].high)};
    if (!s.epochs.length) return;
    if (s.seeds > 1){
      traces.push({x: s.epochs.concat(s.epochs.slice().reverse()), y: m.high.concat(m.low.slice().reverse()),
        mode: "lines", fill: "toself", fillcolor: color + "33", line: {width: 0}, hoverinfo: "skip", showlegend: false, name: label + " band"});
    }
    traces.push({x: s.epochs, y: m.mean, name: label + (s.seeds > 1 ? " (" + s.seeds + " seeds)" : ""), mode: "lines+markers",
      line: {color: color, width: 2}, marker: {size: 5}});
  });
  return {traces: traces, layout: {title: {text: title, font: {size: 13}}, margin: {l: 50, r: 10, t: 34, b: 40},
    xaxis: {title: {text: "epoch"}, dtick: 1, gridcolor: "#eee"},
    yaxis: {gridcolor: "#eee", title: {text: scale === 100 ? "%" : ""}, automargin: true}, hovermode: "x",
    legend: {orientation: "h", y: -0.25}, paper_bgcolor: "#fff", plot_bgcolor: "#fff"}};
}

function diagFigure(cfg, key, title, logy){
  const traces = [];
  Object.keys(cfg.diagnostics).forEach((label, i) => {
    const v = cfg.diagnostics[label][key];
    if (!v || !v.length) return;
    const x = v.map((_, j) => key === "grad_norm" ?
      "W" + (j + 1) + (j === 0 ? " (input)" : j === v.length - 1 ? " (output)" : "") : "hidden layer " + (j + 1));
    const color = COLORS[i % COLORS.length];
    traces.push(logy ? {type: "scatter", mode: "lines+markers", x: x, y: v, name: label, line: {color: color, width: 2}}
                     : {type: "bar", x: x, y: v, name: label, marker: {color: color}});
  });
  return {traces: traces, layout: {title: {text: title, font: {size: 13}}, barmode: "group", margin: {l: 50, r: 10, t: 34, b: 40},
    yaxis: {type: logy ? "log" : "linear", gridcolor: "#eee", tickformat: logy ? "" : ".1~%", rangemode: "tozero"},
    legend: {orientation: "h", y: -0.25}, paper_bgcolor: "#fff", plot_bgcolor: "#fff"}};
}

function sweepFigure(sweep, narrow){
  // rows: configurations; on a phone the grid is turned so that activation names read across
  const T = m => m[0].map((_, j) => m.map(row => row[j]));
  const text = sweep.acc_pct.map((row, i) => row.map((v, j) => v === null ? "" :
    v.toFixed(2) + (sweep.best[j] === i ? " \u2605" : "")));
  const hover = sweep.acc_pct.map((row, i) => row.map((v, j) => sweep.activations[j] + " at " + sweep.configs[i] +
    ": " + (v === null ? "no runs" : v.toFixed(2) + "% (n = " + sweep.n[i][j] + ")")));
  const trace = narrow ?
    {x: sweep.configs, y: sweep.activations, z: T(sweep.acc_pct), text: T(text), hovertext: T(hover)} :
    {x: sweep.activations, y: sweep.configs, z: sweep.acc_pct, text: text, hovertext: hover};
  return {traces: [Object.assign(trace, {type: "heatmap", texttemplate: "%{text}", hoverinfo: "text",
      colorscale: "Viridis", xgap: 2, ygap: 2, colorbar: {title: {text: "%"}, thickness: 12}})],
    layout: {title: {text: "test accuracy (%)", font: {size: 13}}, margin: {l: 10, r: 10, t: 34, b: 10},
      xaxis: {automargin: true, side: "bottom"},
      yaxis: {automargin: true, autorange: "reversed"}, paper_bgcolor: "#fff", plot_bgcolor: "#fff"}};
}

// a wide table scrolls inside its box; the hint before it says so while the box overflows
function scrollHints(){
  document.querySelectorAll(".scrollhint").forEach(h => {
    const box = h.nextElementSibling;
    h.hidden = !box || box.scrollWidth <= box.clientWidth + 1;
  });
}
function hinted(box){
  const frag = document.createDocumentFragment();
  frag.appendChild(el("p", {class: "scrollhint note", hidden: ""}, "\u2194 wider than the screen: swipe the table sideways for every column"));
  frag.appendChild(box);
  return frag;
}

// the learned function of each epoch (dark → light) over its inputs' histogram (last epoch, grey bars)
function learnedFunctionFigure(fr){
  const mids = fr.edges.slice(0, -1).map((e, i) => (e + fr.edges[i + 1]) / 2), last = fr.hist[fr.hist.length - 1];
  const traces = [{x: mids, y: last, type: "bar", yaxis: "y2", marker: {color: "rgba(140,140,140,0.35)"},
    name: "inputs (epoch " + fr.epochs[fr.epochs.length - 1] + ")", hoverinfo: "skip"}];
  const n = Math.max(1, fr.epochs.length - 1);
  fr.epochs.forEach((e, i) => {
    const c = Math.round(200 * i / n);
    traces.push({x: fr.x, y: fr.f[i], type: "scatter", mode: "lines", name: "epoch " + e,
      line: {color: "rgb(" + (68 + c) + "," + (1 + c) + "," + (84 + Math.round(c / 3)) + ")", width: i === 0 || i === n ? 2.5 : 1.2,
        dash: i === 0 ? "dash" : "solid"}, showlegend: i === 0 || i === n});
  });
  const learn = Object.keys(fr.learning).map(k => k + " per " + fr.learning[k]).join(", ");
  return {traces, layout: {title: {text: fr.label + ", layer " + fr.layer + " (seed " + fr.seed + "; " + learn + ")", font: {size: 13}},
    margin: {l: 50, r: 10, t: 40, b: 40}, bargap: 0, xaxis: {title: {text: "pre-activation x"}}, yaxis: {title: {text: "f(x)"}},
    yaxis2: {overlaying: "y", side: "right", showticklabels: false, showgrid: false, rangemode: "tozero"},
    legend: {orientation: "h", y: -0.25}, paper_bgcolor: "#fff", plot_bgcolor: "#fff"}};
}
// a learned parameter per epoch: mean over seeds, band from the lowest to the highest seed
function trajectoryFigure(series){
  const traces = [];
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length], name = s.param + (series.some(t => t.layer !== s.layer) ? " (layer " + s.layer + ")" : "");
    traces.push({x: s.epochs, y: s.lo, type: "scatter", mode: "lines", line: {width: 0, color}, showlegend: false, hoverinfo: "skip"});
    traces.push({x: s.epochs, y: s.hi, type: "scatter", mode: "lines", line: {width: 0, color}, fill: "tonexty",
      fillcolor: color + "33", showlegend: false, hoverinfo: "skip"});
    traces.push({x: s.epochs, y: s.mean, type: "scatter", mode: "lines+markers", name, line: {color}});
    if (s.q05) ["q05", "q95"].forEach(q => traces.push({x: s.epochs, y: s[q], type: "scatter", mode: "lines",
      line: {color, dash: "dot", width: 1}, name: name + " units' " + (q === "q05" ? "5%" : "95%"), showlegend: false}));
  });
  const s = series[0] || {label: "", seeds: 0, granularity: "layer"};
  return {traces, layout: {title: {text: s.label + ": " + (s.granularity === "unit" ? "median over units (dotted: units' 5–95%), " : "") +
    "band over " + s.seeds + " seed" + (s.seeds === 1 ? "" : "s"), font: {size: 13}}, margin: {l: 50, r: 10, t: 40, b: 40},
    xaxis: {title: {text: "epoch"}, dtick: 1}, yaxis: {title: {text: "value"}}, paper_bgcolor: "#fff", plot_bgcolor: "#fff"}};
}

function setupTraining(){
  const root = document.getElementById("training-body");
  if (!root) return;
  DATA.training.forEach((store, si) => {
    if (store.sweep){
      const box = el("div", {class: "config sweep"});
      box.appendChild(el("h3", {}, "Sweep: " + store.sweep.configs.length + " configurations"));
      box.appendChild(el("p", {class: "note"}, "store " + store.source + ": mean test accuracy over seeds, in percent; " +
        "\u2605 marks each activation's best configuration (as the sweep's statistics name it: none where every run is at chance; the tables below give the intervals)."));
      const narrow = window.innerWidth < 600, rows = narrow ? store.sweep.activations : store.sweep.configs;
      const d = el("div", {id: "sweep-" + si, class: "sweep-plot"});
      d.style.height = Math.max(220, 110 + 46 * rows.length) + "px";
      box.appendChild(d);
      root.appendChild(box);
      const f = sweepFigure(store.sweep, narrow);
      Plotly.newPlot(d, f.traces, f.layout, CONFIG);
    }
    store.configurations.forEach((cfg, ci_) => {
      const box = el("div", {class: "config", "data-config": cfg.label});
      box.appendChild(el("h3", {}, cfg.label));
      box.appendChild(el("p", {class: "note"}, "store " + store.source + (store.created ? ", " + store.created : "") +
        (store.target !== null && store.target !== undefined ? "; target test accuracy " + accPct(store.target) + "%" : "")));
      const scroll = t => { const w = el("div", {class: "scrollx"}); w.appendChild(t); return hinted(w); };
      box.appendChild(scroll(statsTable(cfg)));
      if (cfg.pairs.length) box.appendChild(scroll(pairsTable(cfg)));
      if (cfg.verdicts.length){
        const ul = el("ul", {class: "verdicts"}); cfg.verdicts.forEach(v => ul.appendChild(el("li", {}, v))); box.appendChild(ul);
      }
      const plots = el("div", {class: "plots"});
      const figs = [curveFigure(cfg, "test_acc", "test accuracy (%)"), curveFigure(cfg, "train_loss", "training loss"),
        diagFigure(cfg, "dead", "dead units (last epoch)", false), diagFigure(cfg, "saturated", "saturated units (last epoch)", false),
        diagFigure(cfg, "grad_norm", "gradient norm per layer (last epoch)", true)];
      figs.forEach((f, j) => {
        const d = el("div", {id: "train-" + si + "-" + ci_ + "-" + j, class: "train-plot"});
        plots.appendChild(d);
      });
      (cfg.learned || []).forEach(entry => {
        entry.frames.forEach(fr => figs.push(learnedFunctionFigure(fr)));
        const names = [...new Set(entry.trajectories.map(t => t.param.split("[")[0]))];
        names.forEach(n => figs.push(trajectoryFigure(entry.trajectories.filter(t => t.param.split("[")[0] === n))));
      });
      figs.forEach((f, j) => {
        if (j < 5) return;
        const d = el("div", {id: "train-" + si + "-" + ci_ + "-" + j, class: "train-plot learned-plot"});
        plots.appendChild(d);
      });
      box.appendChild(plots);
      if (cfg.boundaries){
        const b = el("div", {class: "boundaries"});
        b.appendChild(el("h4", {}, "Decision boundaries"));
        b.appendChild(el("p", {class: "note"}, "Each run's class probabilities over the plane (orange: class 0, blue: class 1, white: undecided; more classes: each class's colour, strength = confidence), training points on top; rows: activations, columns: seeds."));
        const img = el("img", {src: cfg.boundaries, alt: "decision boundaries of " + cfg.label, class: "boundaries-img"});
        b.appendChild(img);
        box.appendChild(b);
      }
      root.appendChild(box);
      figs.forEach((f, j) => Plotly.newPlot("train-" + si + "-" + ci_ + "-" + j, f.traces, f.layout, CONFIG));
    });
  });
}

// ------------------------------------------------------------------ start
DATA.activations.forEach(a => { STATE[a.name] = a.initial; });
setupTable();
setupControls();
scrollHints();
window.addEventListener("resize", scrollHints);
document.querySelectorAll("[data-overlay], input[name=overlay-what]").forEach(b => b.addEventListener("change", drawOverlay));
const order = DATA.activations.map(a => a.name);
if (order.length) drawPanel(order[0]);
let next = 1;
function drawRest(){
  while (next < order.length && DRAWN[order[next]]) next++;
  if (next < order.length){ drawPanel(order[next++]); setTimeout(drawRest, 0); }
  else { drawOverlay(); setupTraining(); scrollHints(); document.body.dataset.ready = "1"; }
}
setTimeout(drawRest, 0);
})();
