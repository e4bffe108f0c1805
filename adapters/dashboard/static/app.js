// NeuralMemory brain explorer: plain JavaScript and SVG, served by `nmem serve` at /ui.
// Every page reads the brain as of the time slider's moment (`at` = a seq; none = live),
// new events arrive over the WebSocket stream, and text from the brain is only ever set as
// text (never as HTML).
"use strict";

const PAGES = [["overview", "Overview"], ["graph", "Graph"], ["recall", "Recall"], ["diff", "Diff"]];
const MEMORY_COLOURS = {
  fact: "#1f77b4", decision: "#d62728", preference: "#9467bd", todo: "#ff7f0e",
  insight: "#2ca02c", context: "#8c564b", instruction: "#e377c2", error: "#b91c1c",
  workflow: "#17becf", reference: "#7f7f7f",
};
const NEURON_COLOURS = {
  time: "#a3a3a3", spatial: "#86a38b", entity: "#c2a25b", action: "#8aa1c1",
  state: "#b59ac9", concept: "#9ca3af", sensory: "#c99a9a", intent: "#93b8b3",
};
const TOKEN_KEY = "nmem-token";

const state = {
  brain: null, brains: [], at: null, head: 1, headAt: null, access: "read", auth: false,
  page: "overview", arg: null, params: new URLSearchParams(), playing: false,
  socket: null, socketBrain: null, retry: null, renderId: 0, pending: null, positions: new Map(),
};

// -- small DOM helpers ---------------------------------------------------------------------------

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

function svg(tag, attrs, ...kids) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setAttrs(el, attrs);
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.setAttribute("class", value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
}

const $ = (selector) => document.querySelector(selector);
const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : "—");
const fmtNum = (n) => (typeof n === "number" ? n.toLocaleString() : "—");
const short = (id) => (id || "").slice(0, 8);

function fmtBytes(n) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function toast(message, error = false) {
  const el = $("#toast");
  el.textContent = message;
  el.className = error ? "toast error" : "toast";
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, error ? 6000 : 3500);
}

// -- the API ---------------------------------------------------------------------------------------

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

async function api(path, { method = "GET", query = {}, body } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query)) {
    if (v !== null && v !== undefined && v !== "") url.searchParams.set(k, v);
  }
  const headers = {};
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) {
    const error = new Error(data.error || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

const brainPath = (rest = "") => `/brains/${encodeURIComponent(state.brain)}${rest}`;
const atQuery = (extra = {}) => ({ ...extra, at: state.at === null ? null : state.at });

// -- navigation: #/page[/arg]?brain=..&at=..&... ----------------------------------------------------

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [page, ...rest] = path.split("/");
  state.page = ["overview", "graph", "memory", "recall", "diff"].includes(page) ? page : "overview";
  state.arg = rest.length ? decodeURIComponent(rest.join("/")) : null;
  state.params = new URLSearchParams(query);
  if (state.params.get("brain")) state.brain = state.params.get("brain");
  const at = state.params.get("at");
  state.at = at !== null && /^\d+$/.test(at) ? Number(at) : null;
}

function href(page, arg = null, params = {}) {
  const q = new URLSearchParams();
  if (state.brain) q.set("brain", state.brain);
  if (state.at !== null) q.set("at", String(state.at));
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, v);
  return `#/${page}${arg ? `/${encodeURIComponent(arg)}` : ""}?${q}`;
}

function go(page, arg = null, params = {}) { location.hash = href(page, arg, params); }

function setAt(at, { push = false } = {}) {
  state.at = at === null || at >= state.head ? null : Math.max(1, at);
  const params = Object.fromEntries(state.params);
  delete params.brain; delete params.at;
  const target = href(state.page, state.arg, params);
  if (push) location.hash = target;
  else history.replaceState(null, "", target);
  showMoment();
  schedule(0);
}

// -- the time bar ----------------------------------------------------------------------------------

function showMoment(label = null) {
  const slider = $("#slider");
  slider.max = String(Math.max(1, state.head));
  if (label === null) slider.value = String(state.at === null ? state.head : state.at); // not while dragging
  const out = $("#moment");
  if (label !== null) out.textContent = label;
  else if (state.at === null) out.textContent = `now · seq ${state.head} (live)`;
  else out.textContent = `as of seq ${state.at} of ${state.head}${state.momentAt ? ` · ${fmtTime(state.momentAt)}` : ""}`;
  out.className = state.at === null ? "" : "past";
  slider.setAttribute("aria-valuetext", out.textContent);
}

function initTimebar() {
  const slider = $("#slider");
  slider.addEventListener("input", () => {
    stopPlaying();
    showMoment(`seq ${slider.value} of ${state.head}…`);
    clearTimeout(initTimebar.timer);
    initTimebar.timer = setTimeout(() => setAt(Number(slider.value)), 120);
  });
  slider.addEventListener("change", () => { stopPlaying(); setAt(Number(slider.value)); });
  $("#now").addEventListener("click", () => { stopPlaying(); setAt(null); });
  $("#play").addEventListener("click", () => (state.playing ? stopPlaying() : play()));
}

async function play() {
  state.playing = true;
  const button = $("#play");
  button.textContent = "⏸ Pause";
  button.setAttribute("aria-pressed", "true");
  const step = Math.max(1, Math.ceil(state.head / 60));
  let at = state.at === null ? 1 : state.at;
  while (state.playing) {
    setAt(at);
    await renderNow();
    await new Promise((resolve) => setTimeout(resolve, 450));
    if (at >= state.head) break;
    at = Math.min(state.head, at + step);
  }
  stopPlaying();
}

function stopPlaying() {
  state.playing = false;
  const button = $("#play");
  button.textContent = "▶ Play";
  button.setAttribute("aria-pressed", "false");
}

// -- live events -----------------------------------------------------------------------------------

function connect() {
  if (!state.brain || state.socketBrain === state.brain) return;
  if (state.socket) state.socket.close();
  clearTimeout(state.retry);
  state.socketBrain = state.brain;
  const url = new URL(`${brainPath("/events")}`, location.origin);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("from", String(state.head));
  if (token()) url.searchParams.set("token", token());
  const socket = new WebSocket(url);
  state.socket = socket;
  const live = $("#live");
  socket.onopen = () => { live.className = "live on"; live.textContent = `live · ${state.brain}`; };
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    state.head = Math.max(state.head, event.seq);
    live.className = "live on";
    live.textContent = `live · #${event.seq} ${event.type.replaceAll("_", " ")}`;
    showMoment();
    if (state.at === null && !state.playing) schedule(250);
  };
  socket.onclose = () => {
    if (state.socket !== socket) return;
    live.className = "live off";
    live.textContent = "offline: reconnecting…";
    state.socketBrain = null;
    state.retry = setTimeout(connect, 2000);
  };
}

// -- rendering -------------------------------------------------------------------------------------

function schedule(delay) {
  clearTimeout(state.pending);
  state.pending = setTimeout(renderNow, delay);
}

async function renderNow() {
  clearTimeout(state.pending);
  const id = ++state.renderId;
  renderNav();
  const page = h("div", { class: "page", "data-page": state.page });
  try {
    if (!state.brain) page.append(h("p", { class: "empty" }, "No brain yet: remember something first (nmem remember \"...\")."));
    else await PAGE_RENDERERS[state.page](page);
  } catch (error) {
    if (error.status === 401) { askToken(); return; }
    page.append(h("p", { class: "notice", role: "alert" }, error.message));
  }
  if (id !== state.renderId) return; // a newer render started meanwhile
  $("#main").replaceChildren(page);
  showMoment();
}

function renderNav() {
  const nav = $("#nav");
  nav.replaceChildren(...PAGES.map(([page, label]) => h("a", {
    href: href(page), "aria-current": state.page === page ? "page" : null,
  }, label)));
}

function remember(data) {
  if (data && data.head) { state.head = Math.max(state.head, data.head.seq); }
  if (data && data.at && state.at !== null) state.momentAt = data.at;
  if (state.at === null) state.momentAt = null;
}

function heading(title, data) {
  const when = state.at === null ? "now" : `as of seq ${state.at}${data && data.at ? ` (${fmtTime(data.at)})` : ""}`;
  return [h("h2", {}, title), h("p", { class: "sub" }, `${state.brain} · ${when}`)];
}

function typeChip(type) {
  return h("span", { class: "chip", style: null, "data-type": type }, type);
}

function colourChips(root) {
  // inline styles are blocked by the page's CSP, so colours go through CSSOM
  for (const chip of root.querySelectorAll(".chip[data-type]")) {
    chip.style.background = MEMORY_COLOURS[chip.dataset.type] || "#64748b";
  }
}

function memoryLink(id, text) {
  return h("a", { href: href("memory", id) }, text || short(id));
}

function writable() { return state.access === "write" && state.at === null; }

// -- overview ----------------------------------------------------------------------------------------

async function renderOverview(page) {
  const [data, context, events] = await Promise.all([
    api(brainPath("/overview"), { query: atQuery() }),
    api(brainPath("/context"), { query: atQuery({ limit: 8 }) }),
    api(brainPath("/history"), { query: atQuery({ limit: 8 }) }),
  ]);
  remember(data);
  page.append(...heading("Overview", data));
  const cards = [
    ["memories", data.memories], ["neurons", data.neurons], ["synapses", data.synapses],
    ["events", data.events], ["pinned", data.pinned], ["forgotten", data.forgotten],
    ["expired", data.expired], ["erased", data.erased], ["projects", data.projects],
  ];
  page.append(h("div", { class: "cards" },
    cards.map(([k, n]) => h("div", { class: "card", "data-count": k },
      h("div", { class: "n" }, fmtNum(n)), h("div", { class: "k" }, k))),
    h("div", { class: "card" }, h("div", { class: "n" }, fmtBytes(data.store_bytes)),
      h("div", { class: "k" }, "store on disk (now)"))));
  const grid = h("div", { class: "grid" });
  grid.append(
    panel("By type", bars(data.by_type, (k) => MEMORY_COLOURS[k])),
    panel("By priority", bars(data.by_priority)),
    panel("By freshness", bars(data.by_freshness)),
    panel("Events per day", dayChart(data.days)),
    panel("Newest memories", context.memories.length
      ? h("ul", { class: "plain", id: "newest" }, context.memories.map((m) => h("li", {},
        typeChip(m.type), memoryLink(m.id, m.text), h("span", { class: `status ${m.status}` }, m.status))))
      : h("p", { class: "empty", id: "newest" }, "No memories at this moment.")),
    panel("Latest events", h("ul", { class: "plain", id: "events" }, events.events.slice().reverse().map((e) =>
      h("li", {}, h("a", { href: "#", class: "mono", onclick: (ev) => { ev.preventDefault(); setAt(e.seq, { push: true }); },
        title: "see the brain as of this event" }, `#${e.seq}`), " ", e.summary,
      h("span", { class: "status" }, fmtTime(e.recorded_at)))))),
    panel("Last decay sweeps", data.sweeps.length ? h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "seq"), h("th", {}, "when"), h("th", {}, "links pruned"), h("th", {}, "memories"))),
      h("tbody", {}, data.sweeps.map((s) => h("tr", {}, h("td", { class: "num" }, s.seq), h("td", {}, fmtTime(s.at)),
        h("td", { class: "num" }, s.pruned), h("td", { class: "num" }, s.memories)))))
      : h("p", { class: "empty" }, "No decay sweep yet.")),
  );
  page.append(grid);
  colourChips(page);
  for (const bar of page.querySelectorAll(".bar[data-colour]")) bar.style.background = bar.dataset.colour;
  for (const bar of page.querySelectorAll(".bar[data-width]")) bar.style.width = `${bar.dataset.width}%`;
}

function panel(title, body) {
  const id = `p-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return h("section", { class: "panel", "aria-labelledby": id }, h("h3", { id }, title), body);
}

function bars(counts, colour = null) {
  const entries = Object.entries(counts || {});
  const max = Math.max(1, ...entries.map(([, n]) => n));
  if (!entries.length) return h("p", { class: "empty" }, "Nothing yet.");
  return h("ul", { class: "bars" }, entries.map(([k, n]) => h("li", {},
    h("span", {}, k),
    h("span", { class: "bar", "data-width": ((100 * n) / max).toFixed(1), "data-colour": colour ? colour(k) : null,
      role: "presentation" }),
    h("span", { class: "v" }, fmtNum(n)))));
}

function dayChart(days) {
  if (!days.length) return h("p", { class: "empty" }, "No events yet.");
  const width = 600, height = 150, pad = 18;
  const max = Math.max(1, ...days.map((d) => d.events));
  const bw = (width - 2 * pad) / days.length;
  const y = (n) => height - pad - ((height - 2 * pad) * n) / max;
  const total = days.reduce((a, d) => a + d.events, 0);
  return svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `${total} events over ${days.length} days, from ${days[0].day} to ${days[days.length - 1].day}` },
  days.map((d, i) => svg("g", {},
    svg("rect", { class: "ev", x: pad + i * bw, y: y(d.events), width: Math.max(1, bw - 1), height: height - pad - y(d.events) },
      svg("title", {}, `${d.day}: ${d.events} events, ${d.memories} new memories`)),
    svg("rect", { class: "mem", x: pad + i * bw + bw * 0.25, y: y(d.memories), width: Math.max(1, bw * 0.5 - 1), height: height - pad - y(d.memories) }))),
  svg("text", { x: pad, y: height - 4 }, days[0].day),
  svg("text", { x: width - pad, y: height - 4, "text-anchor": "end" }, days[days.length - 1].day),
  svg("text", { x: pad, y: 12 }, `max ${max} events/day (grey), new memories (blue)`));
}

// -- graph -------------------------------------------------------------------------------------------

async function renderGraph(page) {
  const memory = state.params.get("memory");
  const query = state.params.get("q") || "";
  const form = h("form", { class: "inline", role: "search", onsubmit: (e) => {
    e.preventDefault();
    const q = form.querySelector("input").value.trim();
    go("graph", null, q ? { q } : {});
  } },
  h("label", { for: "graph-q", class: "visually-hidden" }, "Question"),
  h("input", { id: "graph-q", type: "search", value: query, placeholder: "A question: show what it sets alight" }),
  h("button", { type: "submit" }, "Show graph"));
  page.append(...heading(memory ? `Neighbourhood of memory ${short(memory)}` : "Graph", null), form);
  if (!memory && !query) {
    const newest = await api(brainPath("/context"), { query: atQuery({ limit: 1 }) });
    if (!newest.memories.length) { page.append(h("p", { class: "empty" }, "No memories at this moment.")); return; }
    page.append(h("p", { class: "sub" }, "The neighbourhood of the newest memory; ask a question to see what it sets alight."));
    return drawGraph(page, await graphData({ memory: newest.memories[0].id }));
  }
  let data;
  try {
    data = await graphData(memory ? { memory } : { query });
  } catch (error) {
    if (error.status === 404 && memory) { page.append(h("p", { class: "notice" }, `Memory ${short(memory)} did not exist at this moment.`)); return; }
    throw error;
  }
  drawGraph(page, data);
}

async function graphData(which) {
  const data = await api(brainPath("/graph"), { query: atQuery({ ...which, limit: 70 }) });
  remember(data);
  return data;
}

function drawGraph(page, data) {
  if (!data.nodes.length) { page.append(h("p", { class: "empty" }, "Nothing is linked here at this moment.")); return; }
  const width = 1000, height = 620;
  const nodes = data.nodes.map((n) => ({ ...n }));
  const byId = new Map(nodes.map((n) => [n.node, n]));
  const edges = data.edges.filter((e) => byId.has(e.source) && byId.has(e.target));
  layout(nodes, edges, byId, width, height);
  const centre = new Set();
  if (data.memory_id) for (const n of nodes) if (n.memory_id === data.memory_id) centre.add(n.node);
  const maxWeight = Math.max(0.01, ...edges.map((e) => e.weight));
  const view = { x: 0, y: 0, k: 1 };
  const stage = svg("g", {});
  const edgeLayer = svg("g", {}, edges.map((e) => {
    const a = byId.get(e.source), b = byId.get(e.target);
    return svg("line", { class: "edge", x1: a.x, y1: a.y, x2: b.x, y2: b.y,
      "stroke-width": (0.6 + 3.4 * (e.weight / maxWeight)).toFixed(2) }, svg("title", {}, `${e.type} · weight ${e.weight}`));
  }));
  const nodeLayer = svg("g", {}, nodes.map((n) => {
    const r = 5 + 15 * Math.sqrt(n.relative || 0);
    const colour = n.kind === "memory" ? MEMORY_COLOURS[n.type] : NEURON_COLOURS[n.type];
    const shape = n.kind === "memory"
      ? svg("circle", { class: "shape", r, fill: colour || "#64748b", stroke: "#fff", "stroke-width": 1.5 })
      : svg("rect", { class: "shape", x: -r * 0.75, y: -r * 0.75, width: r * 1.5, height: r * 1.5, fill: colour || "#9ca3af",
        transform: "rotate(45)", stroke: "#fff", "stroke-width": 1 });
    const label = n.kind === "memory" ? n.label.slice(0, 28) + (n.label.length > 28 ? "…" : "") : n.label;
    const describe = n.kind === "memory"
      ? `memory ${short(n.memory_id)}, ${n.type}, ${n.status}: ${n.label}. Activation ${n.activation}`
      : `${n.type} neuron ${n.label}. Activation ${n.activation}`;
    const open = () => { if (n.kind === "memory") go("memory", n.memory_id); else go("graph", null, { q: n.label }); };
    return svg("g", {
      class: `node ${centre.has(n.node) ? "center" : ""}`, transform: `translate(${n.x.toFixed(1)},${n.y.toFixed(1)})`,
      tabindex: 0, role: "link", "aria-label": describe, "data-kind": n.kind, "data-memory": n.memory_id || null,
      onclick: open, onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); } },
    }, svg("title", {}, describe), shape,
    (n.kind === "memory" || n.relative > 0.25) ? svg("text", { x: r + 3, y: 4 }, label) : null);
  }));
  stage.append(edgeLayer, nodeLayer);
  const board = svg("svg", { class: "graph", viewBox: `0 0 ${width} ${height}`, role: "group", tabindex: 0,
    "aria-label": `Graph of ${nodes.length} nodes and ${edges.length} links. Tab to a node and press Enter to open it; arrow keys pan, + and - zoom.` }, stage);
  const apply = () => stage.setAttribute("transform", `translate(${view.x},${view.y}) scale(${view.k})`);
  const zoom = (factor, cx = width / 2, cy = height / 2) => {
    const k = Math.min(6, Math.max(0.25, view.k * factor));
    view.x = cx - ((cx - view.x) * k) / view.k; view.y = cy - ((cy - view.y) * k) / view.k; view.k = k; apply();
  };
  board.addEventListener("wheel", (e) => {
    e.preventDefault();
    const box = board.getBoundingClientRect();
    zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, ((e.clientX - box.left) / box.width) * width, ((e.clientY - box.top) / box.height) * height);
  }, { passive: false });
  let drag = null;
  board.addEventListener("pointerdown", (e) => {
    if (e.target.closest(".node")) return;
    drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y };
    board.classList.add("dragging"); board.setPointerCapture(e.pointerId);
  });
  board.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const box = board.getBoundingClientRect(), s = width / box.width;
    view.x = drag.vx + (e.clientX - drag.x) * s; view.y = drag.vy + (e.clientY - drag.y) * s; apply();
  });
  const end = () => { drag = null; board.classList.remove("dragging"); };
  board.addEventListener("pointerup", end); board.addEventListener("pointercancel", end);
  board.addEventListener("keydown", (e) => {
    if (e.target !== board) return;
    const pan = { ArrowLeft: [40, 0], ArrowRight: [-40, 0], ArrowUp: [0, 40], ArrowDown: [0, -40] }[e.key];
    if (pan) { e.preventDefault(); view.x += pan[0]; view.y += pan[1]; apply(); }
    else if (e.key === "+" || e.key === "=") zoom(1.2);
    else if (e.key === "-") zoom(1 / 1.2);
    else if (e.key === "0") { view.x = 0; view.y = 0; view.k = 1; apply(); }
  });
  const controls = h("div", { class: "zoom" },
    h("button", { type: "button", "aria-label": "Zoom in", onclick: () => zoom(1.25) }, "+"),
    h("button", { type: "button", "aria-label": "Zoom out", onclick: () => zoom(0.8) }, "−"),
    h("button", { type: "button", "aria-label": "Reset the view", onclick: () => { view.x = 0; view.y = 0; view.k = 1; apply(); } }, "⟲"));
  const types = [...new Set(nodes.map((n) => `${n.kind}:${n.type}`))].sort();
  const legend = h("div", { class: "legend", "aria-label": "Legend" }, types.map((t) => {
    const [kind, type] = t.split(":");
    return h("span", {}, h("i", { class: kind === "memory" ? "" : "sq", "data-colour": (kind === "memory" ? MEMORY_COLOURS : NEURON_COLOURS)[type] }),
      kind === "memory" ? `${type} memory` : `${type}`);
  }), h("span", {}, "· size: activation · line width: link weight"));
  page.append(h("div", { class: "graphwrap" }, board, controls), legend);
  if (data.anchors) page.append(h("p", { class: "sub" }, `Anchors: ${data.anchors.join(", ") || "none (no word of the question is known)"}`));
  for (const dot of legend.querySelectorAll("i[data-colour]")) dot.style.background = dot.dataset.colour;
}

function layout(nodes, edges, byId, width, height) {
  // a few hundred steps of a force layout; nodes keep the place they had in earlier renders
  const known = state.positions;
  nodes.forEach((n, i) => {
    const key = n.memory_id || `n${n.node}`;
    const old = known.get(key);
    const angle = (2 * Math.PI * i) / nodes.length;
    n.x = old ? old[0] : width / 2 + (width / 3) * Math.cos(angle) * (0.4 + 0.6 * ((i * 7919) % 13) / 13);
    n.y = old ? old[1] : height / 2 + (height / 3) * Math.sin(angle) * (0.4 + 0.6 * ((i * 104729) % 11) / 11);
    n.vx = 0; n.vy = 0;
  });
  const ideal = Math.max(40, Math.min(120, Math.sqrt((width * height) / Math.max(1, nodes.length)) * 0.8));
  for (let step = 0; step < 300; step += 1) {
    const cool = 1 - step / 300;
    for (let i = 0; i < nodes.length; i += 1) {
      const a = nodes[i];
      for (let j = i + 1; j < nodes.length; j += 1) {
        const b = nodes[j];
        let dx = a.x - b.x, dy = a.y - b.y;
        let d2 = dx * dx + dy * dy;
        if (d2 < 0.01) { dx = (i - j) * 0.1; dy = 0.1; d2 = 0.02; }
        const force = (ideal * ideal) / d2;
        a.vx += dx * force * 0.05; a.vy += dy * force * 0.05; b.vx -= dx * force * 0.05; b.vy -= dy * force * 0.05;
      }
    }
    for (const e of edges) {
      const a = byId.get(e.source), b = byId.get(e.target);
      const dx = b.x - a.x, dy = b.y - a.y, d = Math.sqrt(dx * dx + dy * dy) || 1;
      const pull = ((d - ideal) / d) * 0.08;
      a.vx += dx * pull; a.vy += dy * pull; b.vx -= dx * pull; b.vy -= dy * pull;
    }
    for (const n of nodes) {
      n.vx += (width / 2 - n.x) * 0.004; n.vy += (height / 2 - n.y) * 0.004;
      const speed = Math.sqrt(n.vx * n.vx + n.vy * n.vy), limit = 30 * cool + 1;
      if (speed > limit) { n.vx *= limit / speed; n.vy *= limit / speed; }
      n.x = Math.min(width - 20, Math.max(20, n.x + n.vx)); n.y = Math.min(height - 20, Math.max(20, n.y + n.vy));
      n.vx *= 0.5; n.vy *= 0.5;
    }
  }
  for (const n of nodes) known.set(n.memory_id || `n${n.node}`, [n.x, n.y]);
  if (known.size > 2000) known.clear();
}

// -- one memory --------------------------------------------------------------------------------------

async function renderMemory(page) {
  const id = state.arg;
  let memory;
  try {
    memory = await api(brainPath(`/memories/${encodeURIComponent(id)}`), { query: atQuery() });
  } catch (error) {
    if (error.status !== 404) throw error;
    page.append(...heading(`Memory ${short(id)}`, null),
      h("p", { class: "notice", id: "missing" }, state.at === null
        ? `There is no memory ${id} in this brain.`
        : `Memory ${short(id)} did not exist as of seq ${state.at}: it came later. Move the slider on, or press Now.`));
    return;
  }
  const history = await api(brainPath("/history"), { query: atQuery({ memory_id: memory.id }) });
  page.append(...heading(`Memory ${short(memory.id)}`, null));
  page.append(h("div", { class: "panel" },
    h("p", { class: "memtext", id: "memory-text" }, memory.text || "(content erased)"),
    h("div", { class: "row" }, typeChip(memory.type), h("span", { class: `status ${memory.status}`, id: "memory-status" }, memory.status),
      h("a", { href: href("graph", null, { memory: memory.id }) }, "Show its neighbourhood")),
    actions(memory),
    h("table", { class: "fields" }, h("tbody", {}, [
      ["id", h("span", { class: "mono" }, memory.id)], ["priority", memory.priority], ["happened", fmtTime(memory.event_time)],
      ["recorded", fmtTime(memory.recorded_at)], ["expires", memory.expires_at ? fmtTime(memory.expires_at) : "never"],
      ["tags", memory.tags.join(", ") || "—"], ["project", memory.project || "—"], ["source", memory.source],
      ["freshness", `${memory.freshness} (${memory.age_days} days)`], ["created by event", `#${memory.seq}`],
    ].map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, v)))))));
  page.append(h("section", { class: "panel", "aria-labelledby": "hist" }, h("h3", { id: "hist" }, `History (${history.events.length} events)`),
    h("table", { id: "history" }, h("thead", {}, h("tr", {}, h("th", {}, "seq"), h("th", {}, "when"), h("th", {}, "event"), h("th", {}, "what"))),
      h("tbody", {}, history.events.map((e) => h("tr", { "data-type": e.type },
        h("td", { class: "num" }, h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); setAt(e.seq, { push: true }); },
          title: "see the brain as of this event" }, `#${e.seq}`)),
        h("td", {}, fmtTime(e.recorded_at)), h("td", { class: "mono" }, e.type), h("td", {}, e.summary)))))));
  colourChips(page);
}

function actions(memory) {
  const box = h("div", { class: "actions" });
  const why = state.at !== null ? "Actions change the brain now: press Now first."
    : state.access !== "write" ? "This token is read-only: actions need a write token." : null;
  const act = (label, path, body) => h("button", { type: "button", disabled: !!why, title: why, onclick: async () => {
    try {
      const done = await api(brainPath(`/memories/${encodeURIComponent(memory.id)}${path}`), { method: "POST", body });
      toast(done.duplicate ? `${label}: nothing to change` : `${label}: recorded as event #${done.seq}`);
      state.head = Math.max(state.head, done.seq);
      schedule(0);
    } catch (error) { toast(error.message, true); }
  } }, label);
  const pinned = memory.status === "pinned", forgotten = memory.status === "forgotten";
  const row = h("div", { class: "row" },
    pinned ? act("Unpin", "/unpin") : act("Pin", "/pin"),
    forgotten ? act("Restore", "/restore") : act("Forget", "/forget", {}),
    h("button", { type: "button", class: "quiet", disabled: !!why || memory.status === "erased", title: why,
      "aria-expanded": "false", onclick: (e) => {
        const open = form.hidden;
        form.hidden = !open; e.currentTarget.setAttribute("aria-expanded", String(open));
        if (open) form.querySelector("textarea").focus();
      } }, "Edit…"));
  const form = h("form", { class: "edit", hidden: true, onsubmit: async (e) => {
    e.preventDefault();
    const changes = {};
    const text = form.elements.text.value.trim(), priority = Number(form.elements.priority.value);
    const type = form.elements.type.value;
    const tags = form.elements.tags.value.split(",").map((t) => t.trim()).filter(Boolean);
    if (text && text !== memory.text) changes.text = text;
    if (priority !== memory.priority) changes.priority = priority;
    if (type !== memory.type) changes.type = type;
    if (tags.join(",") !== memory.tags.join(",")) changes.tags = tags;
    if (!Object.keys(changes).length) { toast("Nothing changed."); return; }
    try {
      const done = await api(brainPath(`/memories/${encodeURIComponent(memory.id)}`), { method: "PATCH", body: changes });
      toast(`Edited: recorded as event #${done.seq}`);
      schedule(0);
    } catch (error) { toast(error.message, true); }
  } },
  h("label", { for: "edit-text" }, "Text"), h("textarea", { id: "edit-text", name: "text" }, memory.text),
  h("label", { for: "edit-priority" }, "Priority"), h("input", { id: "edit-priority", name: "priority", type: "number", min: 0, max: 10, value: memory.priority }),
  h("label", { for: "edit-type" }, "Type"), h("select", { id: "edit-type", name: "type" },
    Object.keys(MEMORY_COLOURS).map((t) => h("option", { value: t, selected: t === memory.type }, t))),
  h("label", { for: "edit-tags" }, "Tags"), h("input", { id: "edit-tags", name: "tags", type: "text", value: memory.tags.join(", ") }),
  h("span", {}), h("div", { class: "row" }, h("button", { type: "submit" }, "Save changes")));
  box.append(row, form);
  if (why) box.append(h("p", { class: "sub" }, why));
  return box;
}

// -- recall ------------------------------------------------------------------------------------------

async function renderRecall(page) {
  const query = state.params.get("q") || "";
  const form = h("form", { class: "inline", role: "search", onsubmit: (e) => {
    e.preventDefault();
    const q = form.querySelector("input").value.trim();
    if (q) go("recall", null, { q });
  } },
  h("label", { for: "recall-q", class: "visually-hidden" }, "Question"),
  h("input", { id: "recall-q", type: "search", value: query, placeholder: "Ask the brain: which database do payments use?", required: true }),
  h("button", { type: "submit" }, "Recall"));
  page.append(...heading("Recall", null), form);
  if (!query) {
    page.append(h("p", { class: "sub" }, "Ranked memories with their scores and the activation paths that led to them. Looking never reinforces."));
    return;
  }
  const data = await api(brainPath("/explain"), { query: atQuery({ query }) });
  remember(data);
  page.append(h("p", { class: "sub", id: "recall-summary" },
    `${data.memories.length} memories · confidence ${data.confidence} · intent ${data.intent} · depth ${data.depth} · ` +
    `${data.neurons_activated} neurons activated · anchors: ${data.anchors.join(", ") || "none"} · `,
  h("a", { href: href("graph", null, { q: query }) }, "see it as a graph")));
  if (!data.memories.length) { page.append(h("p", { class: "empty", id: "results" }, "Nothing matched at this moment.")); return; }
  const top = Math.max(...data.memories.map((m) => m.score)) || 1;
  const list = h("ol", { class: "plain", id: "results" }, data.memories.map((m) => {
    const bar = h("span", { "data-width": ((100 * m.score) / top).toFixed(1) });
    return h("li", { class: "result" },
      h("div", {}, h("span", { class: "score", title: `score ${m.score}` }, bar), h("span", { class: "mono" }, m.score.toFixed(3)), " ",
        typeChip(m.type), memoryLink(m.id, m.text), h("span", { class: `status ${m.status}` }, m.status)),
      m.paths.length ? h("ul", { class: "paths", "aria-label": "activation paths" }, m.paths.map((p) => h("li", {},
        p.nodes.map((n, i) => [
          i ? h("span", { class: "arrow", "aria-hidden": "true" }, `—${p.links[i - 1].weight.toFixed(2)}→`) : null,
          i ? h("span", { class: "visually-hidden" }, ` then, along a link of weight ${p.links[i - 1].weight.toFixed(2)}, `) : null,
          h("span", { class: `step ${n.anchor ? "anchor" : ""}` }, n.kind === "memory" ? `memory ${short(n.memory_id)}` : n.label),
        ]), h("span", { class: "status" }, `carried ${p.carried.toFixed(4)}`))))
        : h("p", { class: "paths" }, "no path back to an anchor within the depth"));
  }));
  page.append(list);
  colourChips(page);
  for (const el of page.querySelectorAll(".score span[data-width]")) el.style.width = `${el.dataset.width}%`;
}

// -- diff ----------------------------------------------------------------------------------------------

async function renderDiff(page) {
  const to = state.at === null ? state.head : state.at;
  const from = Math.min(to, Math.max(1, Number(state.params.get("from")) || Math.max(1, to - 10)));
  const input = h("input", { id: "diff-from", type: "range", min: 1, max: to, value: from, step: 1,
    "aria-label": "From: the earlier moment (sequence number)" });
  const label = h("output", { for: "diff-from" }, `from seq ${from}`);
  input.addEventListener("input", () => { label.textContent = `from seq ${input.value}`; });
  input.addEventListener("change", () => go("diff", null, { from: input.value }));
  page.append(...heading("What changed", null), h("div", { class: "panel row" },
    h("label", { for: "diff-from" }, "From"), input, label, h("span", {}, `to seq ${to}${state.at === null ? " (now)" : ""} — the time bar sets this end`)));
  const data = await api(brainPath("/diff"), { query: { from, to: state.at === null ? "now" : to } });
  page.append(h("p", { class: "sub" }, `from #${data.from.seq} (${fmtTime(data.from.at)}) to #${data.to.seq} (${fmtTime(data.to.at)})`));
  const groups = ["added", "changed", "forgotten", "restored", "pinned", "unpinned", "expired", "erased"];
  const grid = h("div", { class: "grid", id: "diff" });
  for (const group of groups) {
    const ids = data[group] || [];
    if (!ids.length) continue;
    const shown = await Promise.all(ids.slice(0, 25).map((id) => api(brainPath(`/memories/${encodeURIComponent(id)}`), { query: atQuery() })
      .catch(() => ({ id, text: "(not visible at this end)", type: "", status: "" }))));
    grid.append(panel(`${group} (${ids.length})`, h("ul", { class: "plain", "data-group": group }, shown.map((m) => h("li", {},
      m.type ? typeChip(m.type) : null, memoryLink(m.id, m.text || "(content erased)"))),
    ids.length > 25 ? h("li", { class: "empty" }, `and ${ids.length - 25} more`) : null)));
  }
  if (data.weights.length) {
    grid.append(panel("Links whose weight moved most", h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "memory"), h("th", {}, "to"), h("th", {}, "before"), h("th", {}, "after"))),
      h("tbody", {}, data.weights.map((w) => h("tr", {}, h("td", {}, memoryLink(w.memory)), h("td", {}, w.to),
        h("td", { class: "num" }, w.before.toFixed(3)), h("td", { class: "num" }, w.after.toFixed(3))))))));
  }
  if (!grid.childElementCount) grid.append(h("p", { class: "empty" }, "Nothing changed between these moments."));
  page.append(grid);
  colourChips(page);
}

const PAGE_RENDERERS = { overview: renderOverview, graph: renderGraph, memory: renderMemory, recall: renderRecall, diff: renderDiff };

// -- start -------------------------------------------------------------------------------------------

function askToken() {
  const dialog = $("#token-dialog");
  if (!dialog.open) dialog.showModal();
  $("#token-input").focus();
}

async function loadBrains() {
  const who = await api("/whoami");
  state.access = who.access;
  state.auth = who.auth;
  $("#token-button").hidden = !who.auth;
  const { brains } = await api("/brains");
  state.brains = brains;
  const select = $("#brain");
  select.replaceChildren(...brains.map((b) => h("option", { value: b.name, selected: b.name === state.brain }, b.name)));
  if (!state.brain || !brains.some((b) => b.name === state.brain)) {
    const pick = brains.find((b) => b.current) || brains[0];
    state.brain = pick ? pick.name : null;
    if (pick) select.value = pick.name;
  }
  const mine = brains.find((b) => b.name === state.brain);
  state.head = mine ? Math.max(1, mine.seq) : 1;
}

async function start() {
  initTimebar();
  $("#brain").addEventListener("change", (e) => {
    state.brain = e.target.value; state.at = null; state.positions.clear();
    go(state.page === "memory" ? "overview" : state.page);
    connect();
  });
  $("#token-button").addEventListener("click", askToken);
  $("#token-form").addEventListener("submit", async (e) => {
    if (e.submitter && e.submitter.value === "clear") sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, $("#token-input").value.trim());
    $("#token-input").value = "";
    state.socketBrain = null;
    await boot();
  });
  window.addEventListener("hashchange", () => { parseHash(); showMoment(); schedule(0); });
  parseHash();
  await boot();
}

async function boot() {
  try {
    await loadBrains();
  } catch (error) {
    if (error.status === 401) { askToken(); return; }
    $("#main").replaceChildren(h("p", { class: "notice" }, error.message));
    return;
  }
  if (state.at !== null && state.at >= state.head) state.at = null;
  showMoment();
  connect();
  await renderNow();
}

document.addEventListener("DOMContentLoaded", start);
