// laicai dashboard: reads /api/*, listens to /api/events (SSE), draws its own SVG charts.
// No framework, no CDN. Every value from the API is put on the page with textContent or as an
// SVG attribute, never as HTML, and the page's CSP forbids inline script.
"use strict";

const TOKEN_KEY = "laicai.web.token";
const SVG_NS = "http://www.w3.org/2000/svg";
const POLL_LIVE_MS = 30000;   // fallback refresh while the event stream is up
const POLL_DOWN_MS = 5000;    // ... and while it is down
const DEBOUNCE_MS = 250;

const $ = (id) => document.getElementById(id);
const view = { status: null, positions: [], live: false, lastRefresh: 0, refreshTimer: null, busy: false, again: false };

// ---- formatting (the API sends exact decimal strings; display rounds, the data does not) ----
const num = (s, digits = 2) => (s === null || s === undefined) ? "—"
  : Number(s).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const signed = (s, digits = 2) => (s === null || s === undefined) ? "—"
  : (Number(s) > 0 ? "+" : "") + num(s, digits);
const pct = (s, digits = 2) => (s === null || s === undefined) ? "—" : (Number(s) * 100).toFixed(digits) + "%";
const signClass = (s) => (s === null || s === undefined || Number(s) === 0) ? "" : (Number(s) > 0 ? "pos" : "neg");
function utc(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toISOString().slice(0, 16).replace("T", " ");
}
function ago(iso) {
  if (!iso) return "never";
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  return s < 90 ? `${s.toFixed(0)} s ago` : s < 5400 ? `${(s / 60).toFixed(0)} min ago` : `${(s / 3600).toFixed(1)} h ago`;
}

// ---- DOM helpers ----
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}
function setText(id, text, cls) {
  const node = $(id);
  node.textContent = text;
  if (cls !== undefined) node.className = cls;
}

// ---- reading the API ----
async function getJSON(path) {
  const r = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

async function refresh() {
  if (view.busy) { view.again = true; return; }  // read again once this round is done
  view.busy = true;
  view.again = false;
  try {
    const names = ["status", "positions", "pnl", "equity", "resets", "funding", "scan", "alerts", "log"];
    const paths = ["/api/status", "/api/positions", "/api/pnl", "/api/equity?limit=1000", "/api/resets?limit=20",
      "/api/funding?limit=12", "/api/scan", "/api/alerts?limit=30", "/api/log?lines=80"];
    const results = await Promise.allSettled(paths.map(getJSON));
    const renderers = { status: renderStatus, positions: renderPositions, pnl: renderPnl, equity: renderEquity,
      resets: renderResets, funding: renderFunding, scan: renderScan, alerts: renderAlerts, log: renderLog };
    const failed = [];
    results.forEach((res, i) => {
      if (res.status === "fulfilled") {
        try { renderers[names[i]](res.value); } catch (e) { failed.push(`${names[i]}: ${e}`); }
      } else failed.push(String(res.reason && res.reason.message || res.reason));
    });
    const box = $("load-error");
    box.hidden = failed.length === 0;
    box.textContent = failed.length ? "Could not read: " + failed.join("; ") : "";
    view.lastRefresh = Date.now();
    setText("updated", "updated " + new Date().toLocaleTimeString());
  } finally {
    view.busy = false;
    if (view.again) scheduleRefresh();
  }
}

function scheduleRefresh() {
  clearTimeout(view.refreshTimer);
  view.refreshTimer = setTimeout(refresh, DEBOUNCE_MS);
}

// ---- status, summary, health ----
function renderStatus(s) {
  view.status = s;
  setText("state", s.state, `badge state state-${s.state}`);
  setText("mode", s.mode + (s.dry_run ? " · dry run" : ""), `badge mode mode-${s.mode}`);
  const breaker = s.breaker === "ok" ? "breaker ok" : `breaker ${s.breaker}` + (s.breaker_reason ? `: ${s.breaker_reason}` : "");
  setText("breaker", breaker, `badge breaker-${s.breaker}`);
  setText("equity", num(s.equity_usdt));
  setText("equity-sub", s.peak_equity_usdt ? `peak ${num(s.peak_equity_usdt)}` + (s.started_at ? ` · since ${utc(s.started_at)} UTC` : "") : "");
  setText("open-positions", String(s.open_positions));
  setText("naked", `naked exposure ${num(s.naked_usdt)} USDT` + (s.entries_paused ? ` · entries paused: ${s.entries_paused}` : ""),
    Number(s.naked_usdt) > 0 ? "neg" : "muted");
  const h = s.health;
  setText("exchange", h.exchange_ok ? "exchange ok" : "exchange down", "big " + (h.exchange_ok ? "pos" : "neg"));
  setText("health-sub", `API ${h.api_requests} req · ${h.api_errors} err · loop ${h.loop_latency_ms.toFixed(0)} ms · WS ${ago(h.last_ws_message)}`);
  const problems = $("problems");
  problems.replaceChildren(...h.problems.map((p) => el("li", { text: p })));
  problems.hidden = h.problems.length === 0;
  const note = $("controls-note");
  note.hidden = s.controls_enabled;
  note.textContent = s.controls_enabled ? "" : "Controls are disabled: no dashboard token is configured. Set LAICAI_WEB_TOKEN and restart the bot.";
  for (const id of ["btn-pause", "btn-resume", "btn-close-all"]) $(id).disabled = !s.controls_enabled;
  $("btn-pause").disabled ||= s.state === "PAUSED";
  $("btn-resume").disabled ||= !(s.state === "PAUSED" || s.entries_paused);
}

function renderPnl(p) {
  setText("pnl-total", signed(p.total.total), "big " + signClass(p.total.total));
  setText("pnl-sub", `today ${signed(p.today.total)} · realized ${signed(p.realized_usdt)} · unrealized ${signed(p.unrealized_usdt)} · ${p.closed_positions} closed`);
  const income = Number(p.total.funding) + Number(p.total.earn);
  setText("income", signed(income.toFixed(2)), "big " + signClass(income));
  setText("income-sub", `funding ${signed(p.total.funding)} · Earn ${signed(p.total.earn)} · fees ${num(p.total.fees)} · borrow ${num(p.total.borrow)}`);
  drawBars($("pnl-chart"), [
    ["funding", Number(p.total.funding)], ["Earn", Number(p.total.earn)], ["basis", Number(p.total.basis)],
    ["fees", -Number(p.total.fees)], ["borrow", -Number(p.total.borrow)], ["total", Number(p.total.total)],
  ]);
}

// ---- positions ----
function marginBar(p) {
  const ratio = p.margin_ratio === null ? null : Number(p.margin_ratio);
  const e = Number(p.emergency_ratio), r = Number(p.reset_ratio), t = Number(p.topup_ratio);
  const max = Math.max(t * 1.6, (ratio ?? 0) * 1.1, 0.0001);
  const W = 190, X = (v) => Math.max(0, Math.min(W, (v / max) * W));
  const bar = svg("svg", { class: "margin-bar", viewBox: `0 0 ${W} 26`, "data-ratio": p.margin_ratio ?? "" });
  bar.append(svg("title", {}, `margin ratio ${pct(p.margin_ratio)} · top-up below ${pct(p.topup_ratio)} · ` +
    `reset below ${pct(p.reset_ratio)} · emergency below ${pct(p.emergency_ratio)}`));
  const zones = [["zone-emergency", 0, e], ["zone-reset", e, r], ["zone-topup", r, t], ["zone-ok", t, max]];
  for (const [cls, a, b] of zones) {
    if (b > a) bar.append(svg("rect", { class: cls, x: X(a), y: 14, width: Math.max(0, X(b) - X(a)), height: 8 }));
  }
  if (ratio !== null) {
    const x = X(ratio);
    bar.append(svg("rect", { class: "marker", x: Math.max(0, x - 1.5), y: 10, width: 3, height: 16 }));
    bar.append(svg("text", { x: Math.min(Math.max(x, 16), W - 16), y: 9, "text-anchor": "middle" }, pct(p.margin_ratio, 1)));
  }
  return bar;
}

function renderPositions(list) {
  view.positions = list;
  const rows = list.map((p) => {
    const close = el("button", { type: "button", class: "small danger close-position", text: "Close", "data-position-id": p.id });
    close.addEventListener("click", () => closePosition(p));
    close.disabled = !(view.status && view.status.controls_enabled);
    return el("tr", { "data-position-id": p.id },
      el("td", { text: String(p.id) }),
      el("td", {}, el("span", { text: p.symbol }), el("span", { class: "sub", text: p.swap_inst_id })),
      el("td", { class: `dir-${p.direction}`, text: p.direction }),
      el("td", { text: p.status }),
      el("td", { class: "num" }, el("span", { text: num(p.base_qty, 4) }),
        el("span", { class: "sub", text: p.notional_usdt === null ? "" : `${num(p.notional_usdt)} USDT` })),
      el("td", {}, marginBar(p), el("span", { class: `level level-${p.margin_level}`, text: p.margin_level })),
      el("td", { class: "num", text: p.okx_mgn_ratio === null ? "—" : pct(p.okx_mgn_ratio, 0) }),
      el("td", { class: "num" }, el("span", { text: pct(p.liq_distance, 1) }),
        el("span", { class: "sub", text: p.liq_px === null ? "" : `liq ${num(p.liq_px, 4)}` })),
      el("td", { class: "num " + signClass(p.breakdown.funding), text: signed(p.breakdown.funding) }),
      el("td", { class: "num" }, el("span", { class: signClass(p.breakdown.earn), text: signed(p.breakdown.earn) }),
        el("span", { class: "sub", text: Number(p.earn_amount) ? `${num(p.earn_amount, 4)} in Earn` : "" })),
      el("td", { class: "num pnl " + signClass(p.pnl_usdt), text: signed(p.pnl_usdt) }),
      el("td", { class: "num" }, el("span", { text: String(p.resets_count) }),
        el("span", { class: "sub", text: p.resets_count ? `cost ${num(p.reset_cost_usdt)}` : "" })),
      el("td", {}, close));
  });
  $("positions").tBodies[0].replaceChildren(...rows);
  $("positions-empty").hidden = list.length > 0;
}

// ---- charts (inline SVG, drawn here) ----
const PAD = { l: 64, r: 12, t: 14, b: 26 };
const drawn = new Map();  // chart id -> redraw function, for window resizes

// The drawing uses the element's own pixel size, so text is never stretched.
function canvasOf(node) {
  const W = Math.max(200, Math.round(node.clientWidth || 640));
  const H = Math.max(120, Math.round(node.clientHeight || 220));
  node.setAttribute("viewBox", `0 0 ${W} ${H}`);
  return [W, H];
}

function emptyChart(node, text) {
  const [W, H] = canvasOf(node);
  node.replaceChildren(svg("text", { class: "empty", x: W / 2, y: H / 2, "text-anchor": "middle" }, text));
}

function lineChart(node, series) {
  drawn.set(node.id, () => lineChart(node, series));
  const all = series.flatMap((s) => s.points);
  if (all.length < 2) { emptyChart(node, "no data yet"); return; }
  const [W, H] = canvasOf(node);
  const ts = all.map((p) => p[0]), vs = all.map((p) => p[1]);
  let [t0, t1] = [Math.min(...ts), Math.max(...ts)];
  let [v0, v1] = [Math.min(...vs), Math.max(...vs)];
  if (t1 === t0) t1 = t0 + 1;
  if (v1 === v0) { v0 -= 1; v1 += 1; }
  const padV = (v1 - v0) * 0.08; v0 -= padV; v1 += padV;
  const X = (t) => PAD.l + ((t - t0) / (t1 - t0)) * (W - PAD.l - PAD.r);
  const Y = (v) => H - PAD.b - ((v - v0) / (v1 - v0)) * (H - PAD.t - PAD.b);
  const parts = [];
  for (let i = 0; i <= 4; i++) {
    const v = v0 + ((v1 - v0) * i) / 4;
    parts.push(svg("line", { class: "gridline", x1: PAD.l, x2: W - PAD.r, y1: Y(v), y2: Y(v) }));
    parts.push(svg("text", { class: "axis-label", x: PAD.l - 6, y: Y(v) + 4, "text-anchor": "end" }, num(v, Math.abs(v1 - v0) < 10 ? 2 : 0)));
  }
  parts.push(svg("text", { class: "axis-label", x: PAD.l, y: H - 6 }, utc(new Date(t0).toISOString())));
  parts.push(svg("text", { class: "axis-label", x: W - PAD.r, y: H - 6, "text-anchor": "end" }, utc(new Date(t1).toISOString())));
  series.forEach((s, i) => {
    if (!s.points.length) return;
    const d = s.points.map((p, j) => `${j ? "L" : "M"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join("");
    parts.push(svg("path", { class: `series series-${s.cls}`, d, "data-points": s.points.length }));
    if (series.length > 1) {
      const lx = PAD.l + 10 + i * 130;
      parts.push(svg("line", { class: `series series-${s.cls}`, x1: lx, x2: lx + 18, y1: PAD.t + 4, y2: PAD.t + 4 }));
      parts.push(svg("text", { class: "axis-label legend", x: lx + 23, y: PAD.t + 8 }, s.name));
    }
  });
  node.replaceChildren(...parts);
}

function renderEquity(points) {
  const pts = points.map((p) => [new Date(p.ts).getTime(), p]).sort((a, b) => a[0] - b[0]);
  lineChart($("equity-chart"), [{ name: "equity", cls: "equity", points: pts.map(([t, p]) => [t, Number(p.equity_usdt)]) }]);
  lineChart($("income-chart"), [
    { name: "funding + Earn", cls: "income", points: pts.map(([t, p]) => [t, Number(p.funding_usdt)]) },
    { name: "fees + borrow", cls: "costs", points: pts.map(([t, p]) => [t, Number(p.costs_usdt)]) },
    { name: "net", cls: "net", points: pts.map(([t, p]) => [t, Number(p.funding_usdt) - Number(p.costs_usdt)]) },
  ]);
}

function drawBars(node, bars) {
  drawn.set(node.id, () => drawBars(node, bars));
  const [W, H] = canvasOf(node);
  const top = 6, rowH = (H - top - 6) / bars.length, labelW = 70, valueW = 80;
  const maxAbs = Math.max(...bars.map((b) => Math.abs(b[1])), 1e-9);
  const hasNeg = bars.some((b) => b[1] < 0);
  const zeroX = labelW + (hasNeg ? (W - labelW - valueW) / 2 : 0);
  const span = hasNeg ? (W - labelW - valueW) / 2 : W - labelW - valueW;
  const parts = [svg("line", { class: "gridline", x1: zeroX, x2: zeroX, y1: top, y2: H - 10 })];
  bars.forEach(([label, v], i) => {
    const y = top + i * rowH;
    const w = (Math.abs(v) / maxAbs) * span;
    const cls = label === "total" ? "bar-total" : v >= 0 ? "bar-pos" : "bar-neg";
    parts.push(svg("text", { class: "bar-label", x: 4, y: y + rowH / 2 + 4 }, label));
    parts.push(svg("rect", { class: `bar ${cls}`, x: v >= 0 ? zeroX : zeroX - w, y: y + rowH * 0.2, width: Math.max(w, 0.5), height: rowH * 0.6, "data-value": v }));
    parts.push(svg("text", { class: "bar-label", x: W - 4, y: y + rowH / 2 + 4, "text-anchor": "end" }, signed(v.toFixed(2))));
  });
  node.replaceChildren(...parts);
}

// ---- tables and lists ----
function renderResets(list) {
  $("resets").tBodies[0].replaceChildren(...list.map((r) => el("tr", {},
    el("td", { text: utc(r.ts) }), el("td", { text: String(r.position_id) }), el("td", { text: r.symbol }),
    el("td", { class: "num neg", text: num(r.cost_usdt) }), el("td", { class: "num", text: String(r.resets_count) }))));
  $("resets-empty").hidden = list.length > 0;
}

function renderFunding(list) {
  $("funding").tBodies[0].replaceChildren(...list.map((f) => el("tr", {},
    el("td", { text: f.symbol }), el("td", { class: "num " + signClass(f.rate), text: pct(f.rate, 4) }),
    el("td", { class: "num", text: `${f.interval_hours} h` }), el("td", { class: "num", text: pct(f.apr, 1) }),
    el("td", { text: utc(f.next_funding_time) }), el("td", { text: f.held ? "held" : "" }),
    el("td", { class: "num " + signClass(f.earned_usdt), text: f.held ? signed(f.earned_usdt) : "" }))));
}

function renderScan(body) {
  const scan = body.scan;
  const table = $("scan");
  if (!scan) {
    $("scan-meta").textContent = "No scan yet.";
    table.tHead.replaceChildren(); table.tBodies[0].replaceChildren();
    return;
  }
  const listKey = Object.keys(scan).find((k) => Array.isArray(scan[k]) && scan[k].every((r) => r && typeof r === "object" && !Array.isArray(r)));
  const meta = Object.entries(scan).filter(([, v]) => v === null || typeof v !== "object")
    .map(([k, v]) => `${k.replaceAll("_", " ")}: ${scanValue(k, v)}`);
  $("scan-meta").textContent = meta.join(" · ");
  const rows = listKey ? scan[listKey] : [];
  const cols = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const shown = cols.slice(0, 14);
  table.tHead.replaceChildren(el("tr", {}, ...shown.map((c) => el("th", { text: c.replaceAll("_", " ") }))));
  table.tBodies[0].replaceChildren(...rows.map((r) => {
    const verdict = r.accepted === true || r.verdict === "accepted" ? "accepted" : (r.accepted === false || r.verdict === "rejected") ? "rejected" : "";
    return el("tr", { class: verdict }, ...shown.map((c) => {
      return el("td", { class: NUMERIC.test(String(r[c])) ? "num" : "", text: scanValue(c, r[c]) });
    }));
  }));
}

const NUMERIC = /^-?\d+(\.\d+)?$/;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;

// A scan is free-form JSON: show rates and APRs as percentages and timestamps in UTC.
function scanValue(key, v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "object") return JSON.stringify(v);
  const s = String(v);
  if (ISO_TIME.test(s)) return utc(s) + " UTC";
  if (NUMERIC.test(s) && /apr|return/.test(key)) return pct(s, 1);
  if (NUMERIC.test(s) && /rate|slippage/.test(key)) return pct(s, 4);
  return s;
}

function renderAlerts(list) {
  $("alerts").replaceChildren(...list.map((a) => el("li", {},
    el("time", { text: utc(a.ts) }), el("span", { class: `lvl lvl-${a.level}`, text: a.level }),
    el("span", { class: "muted", text: a.kind + (a.position_id ? ` #${a.position_id}` : "") + " · " }),
    el("span", { text: a.message }))));
  if (!list.length) $("alerts").replaceChildren(el("li", { class: "muted", text: "No alerts." }));
}

function renderLog(body) {
  const node = $("log");
  const atBottom = node.scrollTop + node.clientHeight >= node.scrollHeight - 4;
  node.textContent = body.lines.join("\n");
  if (atBottom) node.scrollTop = node.scrollHeight;
}

// ---- live updates ----
function setLive(on) {
  view.live = on;
  setText("live", on ? "live" : "reconnecting… (polling)", `live ${on ? "on" : "off"}`);
}

function connect() {
  if (!window.EventSource) { setLive(false); return; }
  const es = new EventSource("/api/events");
  es.onopen = () => setLive(true);
  es.onerror = () => setLive(false);
  es.onmessage = (m) => {
    let ev;
    try { ev = JSON.parse(m.data); } catch { return; }
    if (ev.type === "StreamOpened") { setLive(true); return; }
    const what = [ev.type, ev.symbol, ev.position_id ? `#${ev.position_id}` : null, ev.new, ev.message || ev.reason]
      .filter(Boolean).join(" ");
    setText("last-event", `last event ${utc(ev.ts)}: ${what}`);
    scheduleRefresh();
  };
}

// ---- controls: token, confirmation, the API's answer ----
function dialogResult(dialog) {
  return new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true });
    dialog.showModal();
  });
}

async function askToken() {
  $("token-input").value = "";
  const answer = await dialogResult($("token-dialog"));
  const token = $("token-input").value.trim();
  if (answer !== "ok" || !token) return null;
  sessionStorage.setItem(TOKEN_KEY, token);
  return token;
}

async function confirmAction(title, text) {
  setText("confirm-title", title);
  setText("confirm-text", text);
  return (await dialogResult($("confirm-dialog"))) === "ok";
}

function showResult(ok, text) {
  const box = $("command-result");
  box.hidden = false;
  box.className = "result " + (ok ? "ok" : "bad");
  box.textContent = text;
}

function detailText(detail) {
  if (detail === undefined || detail === null) return null;
  if (Array.isArray(detail)) return detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
  return String(detail);
}

async function control(label, path, body) {
  let token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) token = await askToken();
  if (!token) { showResult(false, `${label}: no token given, nothing was sent`); return; }
  let r;
  try {
    r = await fetch(path, { method: "POST", body: JSON.stringify(body ?? {}),
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json" } });
  } catch (e) {
    showResult(false, `${label}: request failed: ${e}`);
    return;
  }
  let j = {};
  try { j = await r.json(); } catch { /* not JSON */ }
  if (r.status === 401) sessionStorage.removeItem(TOKEN_KEY);
  const message = j.message ?? detailText(j.detail) ?? r.statusText;
  showResult(r.ok && j.ok !== false, `${label}: ${message} (HTTP ${r.status})`);
  scheduleRefresh();
}

function closePosition(p) {
  confirmAction(`Close #${p.id} ${p.symbol}?`,
    `Closes both legs of the ${p.direction} carry (redeeming Earn, repaying any loan) at market prices.`)
    .then((ok) => ok ? control(`close #${p.id}`, `/api/positions/${p.id}/close`, {})
      : showResult(false, `close #${p.id}: cancelled, nothing was sent`));
}

function closeAll() {
  const n = view.positions.length;
  confirmAction("Close ALL carries and stop?",
    `Closes every carry (${n} open) at market prices and stops the bot. Resume does not undo this.`)
    .then((ok) => ok ? control("close all", "/api/close-all", { confirm: true })
      : showResult(false, "close all: cancelled, nothing was sent"));
}

function init() {
  $("btn-pause").addEventListener("click", () => control("pause", "/api/pause", { reason: "paused from the dashboard" }));
  $("btn-resume").addEventListener("click", () => control("resume", "/api/resume", {}));
  $("btn-close-all").addEventListener("click", closeAll);
  $("btn-token").addEventListener("click", async () => {
    sessionStorage.removeItem(TOKEN_KEY);
    const token = await askToken();
    showResult(Boolean(token), token ? "token kept for this tab" : "token forgotten");
  });
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => drawn.forEach((redraw) => redraw()), 150);
  });
  refresh();
  connect();
  setInterval(() => {
    const due = view.live ? POLL_LIVE_MS : POLL_DOWN_MS;
    if (Date.now() - view.lastRefresh >= due) refresh();
  }, 1000);
}

document.addEventListener("DOMContentLoaded", init);
