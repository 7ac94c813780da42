// Trading Assistant dashboard: the shell every page module builds on. No build step, no external assets.
//
// Layout of this file:
//   1. dom      h(): builds elements; text is always a text node (never innerHTML)
//   2. keys     the API key: URL fragment -> localStorage, forget
//   3. events   the event router: on(type, handler) / emit(event); last event per type is replayed
//   4. api      fetch wrapper for /api/v1 with X-API-Key; errors become ApiError {status, code, details}
//   5. socket   /ws connection with backoff reconnect and the wrong-key stop
//   6. panels   registerPanel({id, title, page, order, wide, mount(body, ctx)}): a panel lives on one page
//   7. shell    key gate, status strip, trading mode, boot
//
// Pages are the <section data-page> elements of index.html; router.js shows one at a time from the URL hash
// (#/chart/SPY). A panel module registers itself:
//
//   import { registerPanel } from "/static/app.js";
//   registerPanel({ id: "alerts-feed", title: "Live alerts", page: "dashboard", order: 10,
//     mount(body, { on, api, h }) { on("alert", (event) => body.prepend(h("div", {}, event.msg))); } });
//
// Server events arrive as {type, ts, seq, ...}. The dashboard itself emits, through the same router,
// "ui:connection" ({state, detail}), "ui:config" (the /diag/config body), "ui:session" (a key was entered or
// restored: (re)load your REST data) and "ui:route" ({page, params}: the page shown).

// ---------------------------------------------------------------------------------------------- 1. dom

/** h("div", {class: "x", testid: "y", onclick: fn}, "text", child) -> element. Strings become text nodes. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "testid") el.dataset.testid = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A table in a box that scrolls sideways on a narrow screen (focusable, so a keyboard can scroll it too). */
export function scrollBox(label, table) {
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": label }, table);
}

/** Replace an element's children (strings are text, never HTML). */
export function setChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

export const $ = (testid, root = document) => root.querySelector(`[data-testid="${testid}"]`);

// --------------------------------------------------------------------------------------------- 2. keys

const KEY_STORAGE = "tradeassist.apiKey";

export const keyStore = {
  get() {
    try { return localStorage.getItem(KEY_STORAGE) || null; } catch { return null; }
  },
  set(key) {
    try { localStorage.setItem(KEY_STORAGE, key); } catch { /* private mode: the key lives for this page only */ }
  },
  clear() {
    try { localStorage.removeItem(KEY_STORAGE); } catch { /* nothing stored */ }
  },
  /** `#key=...` from the URL the server printed: store it and take it out of the address bar and history. */
  takeFromFragment() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    const key = params.get("key");
    if (key === null) return null;
    params.delete("key");
    const rest = params.toString();
    history.replaceState(history.state, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
    const trimmed = key.trim();
    if (trimmed) this.set(trimmed);
    return trimmed || null;
  },
};

// ------------------------------------------------------------------------------------------- 3. events

const handlers = new Map();   // type -> Set(handler); "*" receives everything
const latest = new Map();     // type -> last event, replayed to late subscribers

/** Subscribe to events of one `type` ("*" for all). Returns an unsubscribe function. */
export function on(type, handler, { replay = true } = {}) {
  if (!handlers.has(type)) handlers.set(type, new Set());
  handlers.get(type).add(handler);
  if (replay && type !== "*" && latest.has(type)) safeCall(handler, latest.get(type));
  return () => handlers.get(type)?.delete(handler);
}

/** Deliver one event to the handlers of its type and to "*". A failing handler never stops the others. */
export function emit(event) {
  if (!event || typeof event.type !== "string") return;
  if (event.type === "status") event = mergeStatus(event);
  latest.set(event.type, event);
  for (const handler of handlers.get(event.type) || []) safeCall(handler, event);
  for (const handler of handlers.get("*") || []) safeCall(handler, event);
}

/** `status` events may carry one integration (the market feed) or all (the heartbeat): merge per integration. */
function mergeStatus(event) {
  const known = latest.get("status")?.integrations || {};
  return { ...event, integrations: { ...known, ...(event.integrations || {}) } };
}

export function lastEvent(type) {
  return latest.get(type);
}

/** The integrations as last reported: `status` events carry them; before the first one, /diag/config does. */
export function integrations() {
  return latest.get("status")?.integrations || latest.get("ui:config")?.integrations || {};
}

function safeCall(handler, event) {
  try {
    handler(event);
  } catch (error) {
    console.error(`dashboard: handler for "${event.type}" failed`, error);
  }
}

// Server clock offset: the smallest (receive time - ts) seen approximates clock skew + latency, so the age of
// an event (for example a heartbeat replayed on connect) is measured on the server's clock, not the browser's.
let minDelta = Infinity;

function noteServerTime(ts) {
  const sent = Date.parse(ts);
  if (Number.isFinite(sent)) minDelta = Math.min(minDelta, Date.now() - sent);
}

/** Milliseconds since the server stamped `ts` (corrected for clock skew). */
export function eventAge(ts) {
  const sent = Date.parse(ts);
  if (!Number.isFinite(sent)) return Infinity;
  const skew = Number.isFinite(minDelta) ? minDelta : 0;
  return Math.max(0, Date.now() - sent - skew);
}

// ---------------------------------------------------------------------------------------------- 4. api

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Call /api/v1{path}. `body` is sent as JSON; `query` as search params (empty values skipped). */
export async function api(path, { method = "GET", body, query } = {}) {
  const url = new URL(`/api/v1${path}`, location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { "X-API-Key": keyStore.get() || "", Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, "network", `the server is not reachable (${error.message})`, null);
  }
  if (response.status === 401) {
    shell.wrongKey();
  }
  if (response.status === 204) return null;
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    const err = payload?.error || {};
    throw new ApiError(response.status, err.code || `http_${response.status}`,
      err.message || `request failed with HTTP ${response.status}`, err.details ?? null);
  }
  return payload;
}

/** API validation details -> {field: message}. Accepts [{field, message}] or {field, message?}. */
export function fieldErrors(error) {
  const out = {};
  const details = error?.details;
  const list = Array.isArray(details) ? details : details && typeof details === "object" ? [details] : [];
  for (const item of list) {
    if (!item || typeof item.field !== "string") continue;
    const field = item.field.split(".")[0];
    const message = String(item.message || error.message || "invalid").replace(/^Value error, /, "");
    out[field] = out[field] ? `${out[field]}; ${message}` : message;
  }
  return out;
}

// ------------------------------------------------------------------------------------------- 5. socket

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15000;
const WRONG_KEY_CODE = 4401;

/**
 * One /ws connection that keeps itself up. States: connecting, connected, reconnecting, wrong-key, stopped.
 * The server closes with 4401 on a wrong key; a handshake that fails before opening (browsers report 1006 for
 * a refused upgrade) is checked against the REST API, so a wrong key stops the loop instead of retrying forever.
 */
class Connection {
  constructor() {
    this.ws = null;
    this.state = "stopped";
    this.attempt = 0;
    this.timer = null;
    this.generation = 0;
  }

  start() {
    this.stop();
    this.generation += 1;
    this.open(this.generation);
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    this.generation += 1;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(1000, "bye"); } catch { /* already closed */ }
    }
    this.attempt = 0;
    this.setState("stopped");
  }

  reconnectNow() {
    if (this.state === "reconnecting") {
      clearTimeout(this.timer);
      this.open(this.generation);
    }
  }

  setState(state, detail = "") {
    if (this.state === state && this.detail === detail) return;
    this.state = state;
    this.detail = detail;
    emit({ type: "ui:connection", state, detail, attempt: this.attempt });
  }

  open(generation) {
    const key = keyStore.get();
    if (!key) {
      this.setState("stopped");
      return;
    }
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting", this.detail);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws?api_key=${encodeURIComponent(key)}`);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      if (generation !== this.generation) return;
      opened = true;
      this.attempt = 0;
      this.setState("connected");
    };
    ws.onmessage = (message) => {
      if (generation !== this.generation) return;
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        console.warn("dashboard: ignoring a frame that is not JSON");
        return;
      }
      if (event && typeof event.ts === "string") noteServerTime(event.ts);
      emit(event);
    };
    ws.onclose = (close) => {
      if (generation !== this.generation) return;
      this.ws = null;
      this.onClosed(generation, close.code, close.reason, opened);
    };
  }

  async onClosed(generation, code, reason, opened) {
    if (code === WRONG_KEY_CODE) {
      shell.wrongKey();
      return;
    }
    if (!opened) {
      // The upgrade was refused or the server is down: a REST call tells a wrong key from an outage.
      const verdict = await probeKey();
      if (generation !== this.generation) return;
      if (verdict === "wrong-key") {
        shell.wrongKey();
        return;
      }
    }
    this.attempt += 1;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (this.attempt - 1));
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    const why = reason || (opened ? `closed (${code})` : "server unreachable");
    this.setState("reconnecting", `${why}; retry in ${(delay / 1000).toFixed(1)}s`);
    this.timer = setTimeout(() => {
      if (generation === this.generation) this.open(generation);
    }, delay);
  }
}

/** "ok" | "wrong-key" | "unreachable", from a cheap authenticated REST call. */
async function probeKey() {
  try {
    const response = await fetch("/api/v1/diag/config", { headers: { "X-API-Key": keyStore.get() || "" } });
    if (response.status === 401) return "wrong-key";
    return response.ok ? "ok" : "unreachable";
  } catch {
    return "unreachable";
  }
}

export const connection = new Connection();

// ------------------------------------------------------------------------------------------- 6. panels

const panels = new Map();
let booted = false;

/**
 * Add a panel to a page. `mount(body, ctx)` builds its content into `body` (a <div>); ctx is
 * {on, emit, api, h, setChildren, lastEvent, eventAge, panel, actions}. `page`: the data-page it lives on;
 * lower `order` first; `wide` spans the page's grid. Returns the panel's <section> once mounted (else null).
 */
export function registerPanel(spec) {
  if (!spec || !spec.id || typeof spec.mount !== "function") throw new Error("registerPanel needs {id, mount}");
  if (panels.has(spec.id)) throw new Error(`panel "${spec.id}" is already registered`);
  const panel = { page: "dashboard", order: 100, title: spec.id, wide: false, ...spec, section: null };
  panels.set(panel.id, panel);
  if (booted) mountPanel(panel);
  return panel.section;
}

function mountPanel(panel) {
  const slot = document.querySelector(`[data-page="${panel.page}"] [data-slot="main"]`)
    || document.querySelector('[data-page="dashboard"] [data-slot="main"]');
  const titleId = `panel-${panel.id}-title`;
  const actions = h("div", { class: "panel-actions" });
  const body = h("div", { class: "panel-body" });
  const section = h("section", {
    class: `panel panel-${panel.id}${panel.wide ? " wide" : ""}`, testid: `panel-${panel.id}`,
    "aria-labelledby": titleId, dataset: { order: String(panel.order) },
  }, h("header", { class: "panel-head" }, h("h2", { id: titleId }, panel.title), actions), body);
  const next = [...slot.children].find((el) => Number(el.dataset.order) > panel.order);
  slot.insertBefore(section, next || null);
  panel.section = section;
  try {
    panel.mount(body, { on, emit, api, h, setChildren, lastEvent, eventAge, panel, actions });
  } catch (error) {
    console.error(`dashboard: panel "${panel.id}" failed to mount`, error);
    setChildren(body, h("p", { class: "field-error" }, `This panel failed to load: ${error.message}`));
  }
}

function mountAll() {
  booted = true;
  [...panels.values()].sort((a, b) => a.order - b.order).forEach(mountPanel);
}

/** Load a panel's stylesheet once (the CSP allows same-origin <link>s only). */
export function useStyle(href) {
  if (document.querySelector(`link[href="${href}"]`)) return;
  document.head.append(h("link", { rel: "stylesheet", href }));
}

// -------------------------------------------------------------------------------------------- 7. shell

const CONNECTION_LABELS = {
  idle: "not connected",
  stopped: "not connected",
  connecting: "connecting…",
  connected: "connected",
  reconnecting: "reconnecting…",
  "wrong-key": "wrong API key",
};

export const shell = {
  wrongKeyShown: false,

  showGate(message = "") {
    $("key-gate").hidden = false;
    const error = $("key-error");
    error.textContent = message;
    error.hidden = !message;
    $("key-input").setAttribute("aria-invalid", message ? "true" : "false");
    $("forget-key").hidden = !keyStore.get();
    $("key-input").focus();
  },

  /** The server refused the key: stop reconnecting and ask again, clearly. */
  wrongKey() {
    if (this.wrongKeyShown) return;
    this.wrongKeyShown = true;
    connection.stop();
    emit({ type: "ui:connection", state: "wrong-key", detail: "the server rejected this API key" });
    this.showGate("The server rejected this API key (401). Check var/api_key on the server or the API_KEY "
      + "setting, then paste it again.");
  },

  async start() {
    this.wrongKeyShown = false;
    $("key-gate").hidden = true;
    $("board").hidden = false;
    $("nav").hidden = false;
    $("forget-key").hidden = false;
    if (!booted) mountAll();
    emit({ type: "ui:session", started: new Date().toISOString() });
    connection.start();
    try {
      emit({ type: "ui:config", ...(await api("/diag/config")) });
    } catch (error) {
      if (error.status !== 401) console.warn("dashboard: /diag/config failed", error);
    }
  },
};

on("ui:connection", ({ state, detail }) => {
  const pill = $("conn-state");
  pill.dataset.state = state;
  pill.textContent = CONNECTION_LABELS[state] || state;
  pill.title = detail || "";
  $("conn-detail").textContent = state === "connected" ? "" : detail || "";
});

/** The trading mode (PAPER / LIVE) the server runs: shown, never switchable from the browser. */
export function tradingMode(config) {
  const tradier = config?.settings?.tradier;
  if (!tradier || !config?.integrations?.broker?.enabled) return null;
  return tradier.env === "sandbox" ? "PAPER" : "LIVE";
}

on("ui:config", (config) => {
  const mode = tradingMode(config);
  const badge = $("trading-mode");
  badge.hidden = !mode;
  badge.textContent = mode ? `${mode} trading` : "";
  badge.dataset.mode = mode || "unknown";
});

function boot() {
  const gate = $("key-form");
  gate.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("key-input").value.trim();
    if (!key) {
      shell.showGate("Enter the API key.");
      return;
    }
    keyStore.set(key);
    $("key-input").value = "";
    shell.start();
  });
  $("forget-key").addEventListener("click", () => {
    connection.stop();
    keyStore.clear();
    location.replace(location.pathname + location.search);
  });
  window.addEventListener("online", () => connection.reconnectNow());

  keyStore.takeFromFragment();
  if (keyStore.get()) shell.start();
  else shell.showGate();
}

// Expose the hooks for scripts that are not modules (and for debugging in the console).
window.tradeassist = { on, emit, api, h, setChildren, registerPanel, lastEvent, eventAge, connection, keyStore };

// Every panel module is loaded (index.html lists them after this file, all deferred): boot once they ran.
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
