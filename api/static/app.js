// Trading Assistant dashboard. No build step, no external assets: one ES module.
//
// Layout of this file:
//   1. dom      h(): builds elements; text is always a text node (never innerHTML)
//   2. keys     the API key: URL fragment -> localStorage, forget
//   3. events   the event router: on(type, handler) / emit(event); last event per type is replayed
//   4. api      fetch wrapper for /api/v1 with X-API-Key; errors become ApiError {status, code, details}
//   5. socket   /ws connection with backoff reconnect and the wrong-key stop
//   6. panels   registerPanel({id, title, column, order, mount(body, ctx)})
//   7. built-in panels: risk, integrations, journal
//   8. shell    key gate, status strip, boot
//
// Adding a panel in a later issue (watchlist, alerts feed, positions/orders, plan calculator, coach):
//
//   import { registerPanel } from "/static/app.js";
//   registerPanel({
//     id: "alerts", title: "Alerts", column: "main", order: 10,
//     mount(body, { on, api, h }) {
//       on("alert", (event) => body.prepend(h("div", { class: "row" }, event.msg)));
//     },
//   });
//
// and add `<script type="module" src="/static/alerts.js"></script>` to index.html. A panel registered after
// boot is mounted at once, and on() replays the latest event of that type, so load order does not matter.
// Server events arrive as {type, ts, seq, ...}. The dashboard itself emits, through the same router,
// "ui:connection" ({state, detail}), "ui:config" (the /diag/config body) and "ui:session" (a key was entered
// or restored: (re)load your REST data).

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

/** Replace an element's children (strings are text, never HTML). */
export function setChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

const $ = (testid, root = document) => root.querySelector(`[data-testid="${testid}"]`);

export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso ?? "");
  return date.toLocaleTimeString([], { hour12: false });
}

export function formatDateTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso ?? "");
  const today = new Date().toDateString() === date.toDateString();
  return today ? formatTime(iso) : `${date.toLocaleDateString()} ${formatTime(iso)}`;
}

function formatAge(ms) {
  if (!Number.isFinite(ms)) return "";
  const sec = Math.max(0, ms / 1000);
  if (sec < 1) return "just now";
  if (sec < 90) return `${Math.round(sec)}s ago`;
  if (sec < 5400) return `${Math.round(sec / 60)}m ago`;
  return `${Math.round(sec / 3600)}h ago`;
}

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
 * Add a panel to the board. `mount(body, ctx)` builds its content into `body` (a <div>); ctx is
 * {on, emit, api, h, setChildren, lastEvent, eventAge, panel}. `column`: "side" | "main"; lower `order` first.
 * Returns the panel's <section> once mounted (or null before boot; it is mounted at boot).
 */
export function registerPanel(spec) {
  if (!spec || !spec.id || typeof spec.mount !== "function") throw new Error("registerPanel needs {id, mount}");
  if (panels.has(spec.id)) throw new Error(`panel "${spec.id}" is already registered`);
  const panel = { column: "main", order: 100, title: spec.id, ...spec, section: null };
  panels.set(panel.id, panel);
  if (booted) mountPanel(panel);
  return panel.section;
}

function mountPanel(panel) {
  const column = document.querySelector(`[data-column="${panel.column}"]`) || document.querySelector("[data-column]");
  const titleId = `panel-${panel.id}-title`;
  const actions = h("div", { class: "panel-actions" });
  const body = h("div", { class: "panel-body" });
  const section = h("section", {
    class: `panel panel-${panel.id}`, testid: `panel-${panel.id}`, "aria-labelledby": titleId,
    dataset: { order: String(panel.order) },
  }, h("header", { class: "panel-head" }, h("h2", { id: titleId }, panel.title), actions), body);
  const next = [...column.children].find((el) => Number(el.dataset.order) > panel.order);
  column.insertBefore(section, next || null);
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

// ------------------------------------------------------------------------------- 7. built-in panels

const DEFAULT_RISK_EVAL_SEC = 5;

/** Heartbeat interval: the server's RISK_EVAL_SEC when known, else what we measured, else 5 s. */
const heartbeat = { configured: null, measured: null, lastTs: null, count: 0 };

function heartbeatIntervalMs() {
  const sec = heartbeat.configured ?? heartbeat.measured ?? DEFAULT_RISK_EVAL_SEC;
  return sec * 1000;
}

on("ui:config", (config) => {
  const value = Number(config?.settings?.risk_eval_sec);
  if (Number.isFinite(value) && value > 0) heartbeat.configured = value;
});

registerPanel({
  id: "risk",
  title: "Risk",
  column: "side",
  order: 10,
  mount(body, { on: listen }) {
    const state = h("span", { class: "risk-state", testid: "risk-state", dataset: { state: "none" } }, "waiting…");
    const last = h("span", { class: "muted", testid: "risk-last" }, "no heartbeat yet");
    const stale = h("span", { class: "tag warn", testid: "risk-stale-inline", hidden: true }, "stale");
    const reasons = h("ul", { class: "reasons", testid: "risk-reasons", "aria-label": "Reasons" });
    const how = h("p", { class: "how", testid: "risk-how", hidden: true });
    const usage = h("dl", { class: "usage", testid: "risk-usage", hidden: true });
    setChildren(body,
      h("div", { class: "risk-line" }, state, stale),
      h("div", { class: "risk-meta" }, "last heartbeat: ", last),
      reasons, how, usage);
    const badge = $("risk-badge");
    const staleBadge = $("risk-stale");

    listen("risk", (event) => {
      const risk = event.state || {};
      const name = String(risk.state ?? "unknown");
      if (heartbeat.lastTs) {
        const gap = (Date.parse(event.ts) - Date.parse(heartbeat.lastTs)) / 1000;
        if (Number.isFinite(gap) && gap > 0) heartbeat.measured = gap;
      }
      heartbeat.lastTs = event.ts;
      heartbeat.count += 1;
      state.textContent = name;
      state.dataset.state = name;
      badge.textContent = `risk: ${name}`;
      badge.dataset.state = name;
      last.dataset.count = String(heartbeat.count);
      setChildren(reasons, (risk.reasons || []).map((reason) => h("li", {}, String(reason))));
      how.hidden = !risk.how_to_enable;
      setChildren(how, risk.how_to_enable ? [h("strong", {}, "How to enable: "), String(risk.how_to_enable)] : []);
      const entries = Object.entries(risk.usage || {});
      usage.hidden = entries.length === 0;
      setChildren(usage, entries.map(([k, v]) => [h("dt", {}, k), h("dd", {}, typeof v === "object" ? JSON.stringify(v) : String(v))]));
      refresh();
    });

    function refresh() {
      if (!heartbeat.lastTs) return;
      const age = eventAge(heartbeat.lastTs);
      last.textContent = `${formatTime(heartbeat.lastTs)} (${formatAge(age)})`;
      last.title = heartbeat.lastTs;
      const isStale = age > 3 * heartbeatIntervalMs();
      stale.hidden = !isStale;
      staleBadge.hidden = !isStale;
      body.closest(".panel")?.classList.toggle("is-stale", isStale);
    }
    setInterval(refresh, 250);
  },
});

registerPanel({
  id: "integrations",
  title: "Integrations",
  column: "side",
  order: 20,
  mount(body, { on: listen }) {
    const list = h("ul", { class: "integrations", testid: "integrations", "aria-label": "Integrations" },
      h("li", { class: "muted" }, "waiting for status…"));
    const updated = h("p", { class: "muted small", testid: "integrations-updated" });
    setChildren(body, list, updated);

    let shown = "";
    const render = (integrations, ts) => {
      if (ts) updated.textContent = `updated ${formatTime(ts)}`;
      const signature = JSON.stringify(integrations || {});
      if (signature === shown) return;  // status repeats every heartbeat; re-render only on change
      shown = signature;
      const items = Object.entries(integrations || {}).map(([key, item]) => {
        const name = String(item?.name ?? key);
        const enabled = Boolean(item?.enabled);
        return h("li", { class: `integration ${enabled ? "on" : "off"}`, testid: `integration-${name}`,
          dataset: { enabled: String(enabled) } },
        h("div", { class: "integration-head" },
          h("span", { class: "integration-name" }, name),
          h("span", { class: `tag ${enabled ? "ok" : "off"}` }, enabled ? "enabled" : "disabled")),
        item?.reason ? h("div", { class: "reason" }, String(item.reason)) : null,
        !enabled && item?.how_to_enable ? h("div", { class: "how" }, String(item.how_to_enable)) : null);
      });
      setChildren(list, items.length ? items : h("li", { class: "muted" }, "no integrations reported"));
    };
    listen("ui:config", (config) => { if (!lastEvent("status")) render(config.integrations, null); });
    listen("status", (event) => render(event.integrations, event.ts));
  },
});

const JOURNAL_KINDS = ["note", "trade", "plan", "order", "coach"];
const JOURNAL_PAGE = 20;

registerPanel({
  id: "journal",
  title: "Journal",
  column: "main",
  order: 10,
  mount(body, { actions, on: listen }) {
    // --- add form
    const field = (name, label, control) => {
      control.id = `journal-${name}`;
      control.name = name;
      control.dataset.testid = `journal-${name}`;
      control.setAttribute("aria-describedby", `journal-error-${name}`);
      const error = h("span", { class: "field-error", id: `journal-error-${name}`, testid: `journal-error-${name}`,
        role: "alert", hidden: true });
      return { wrap: h("div", { class: `field field-${name}` }, h("label", { for: control.id }, label), control, error),
        control, error };
    };
    const kind = field("kind", "Kind", h("select", {}, JOURNAL_KINDS.map((k) => h("option", { value: k }, k))));
    const symbol = field("symbol", "Symbol", h("input", { type: "text", autocomplete: "off", spellcheck: "false",
      placeholder: "SPY", maxlength: "32" }));
    const tags = field("tags", "Tags", h("input", { type: "text", autocomplete: "off", placeholder: "breakout, a+" }));
    const text = field("body", "Entry", h("textarea", { rows: "3", placeholder: "What did you see, plan or do?" }));
    const formError = h("p", { class: "field-error", testid: "journal-form-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: "btn primary", testid: "journal-submit" }, "Add entry");
    const fields = { kind, symbol, tags, body: text };
    const form = h("form", { class: "journal-form", testid: "journal-form", novalidate: true,
      "aria-label": "Add a journal entry" },
    h("div", { class: "form-row" }, kind.wrap, symbol.wrap, tags.wrap),
    text.wrap,
    h("div", { class: "form-row end" }, formError, submit));

    // --- filters + list
    const filterSymbol = h("input", { type: "text", id: "journal-filter-symbol", testid: "journal-filter-symbol",
      placeholder: "all symbols", autocomplete: "off", spellcheck: "false" });
    const filterKind = h("select", { id: "journal-filter-kind", testid: "journal-filter-kind" },
      h("option", { value: "" }, "all kinds"), JOURNAL_KINDS.map((k) => h("option", { value: k }, k)));
    const listError = h("p", { class: "field-error", testid: "journal-list-error", role: "alert", hidden: true });
    const filters = h("form", { class: "journal-filters", testid: "journal-filters", "aria-label": "Filter journal" },
      h("label", { for: filterSymbol.id }, "Filter symbol"), filterSymbol,
      h("label", { for: filterKind.id }, "Filter kind"), filterKind,
      h("button", { type: "submit", class: "btn" }, "Filter"), listError);
    const list = h("ol", { class: "journal-list", testid: "journal-list", "aria-label": "Journal entries",
      "aria-live": "polite" });
    const empty = h("p", { class: "muted", testid: "journal-empty", hidden: true }, "No entries yet.");
    const more = h("button", { type: "button", class: "btn", testid: "journal-more", hidden: true }, "Load more");
    const refreshButton = h("button", { type: "button", class: "btn ghost small", testid: "journal-refresh",
      title: "Reload the journal" }, "Refresh");
    actions.append(refreshButton);
    setChildren(body, form, filters, list, empty, h("div", { class: "more" }, more));

    let cursor = null;
    let loading = false;
    let query = {};

    function entryRow(entry) {
      const remove = h("button", { type: "button", class: "btn ghost small danger", testid: "journal-delete",
        "aria-label": `Delete entry from ${formatDateTime(entry.created_at)}` }, "×");
      remove.addEventListener("click", async () => {
        if (!confirm("Delete this journal entry?")) return;
        try {
          await api(`/journal/${encodeURIComponent(entry.id)}`, { method: "DELETE" });
          row.remove();
          empty.hidden = list.children.length > 0;
        } catch (error) {
          showListError(error);
        }
      });
      const row = h("li", { class: "entry", testid: "journal-entry", dataset: { id: String(entry.id), kind: String(entry.kind) } },
        h("div", { class: "entry-head" },
          h("time", { class: "entry-time", datetime: String(entry.created_at), title: String(entry.created_at) },
            formatDateTime(entry.created_at)),
          h("span", { class: `tag kind kind-${entry.kind}`, testid: "journal-entry-kind" }, String(entry.kind)),
          entry.symbol ? h("span", { class: "symbol", testid: "journal-entry-symbol" }, String(entry.symbol)) : null,
          (entry.tags || []).map((tag) => h("span", { class: "tag", testid: "journal-entry-tag" }, `#${tag}`)),
          entry.actor && entry.actor !== "api" ? h("span", { class: "muted small" }, `by ${entry.actor}`) : null,
          h("span", { class: "spacer" }),
          remove),
        h("p", { class: "entry-body", testid: "journal-entry-body" }, String(entry.body ?? "")),
        entry.rationale ? h("p", { class: "entry-rationale muted" }, String(entry.rationale)) : null);
      return row;
    }

    function showListError(error) {
      listError.hidden = !error;
      listError.textContent = error ? error.message : "";
    }

    async function load({ reset }) {
      if (loading) return;
      loading = true;
      more.disabled = true;
      try {
        const page = await api("/journal", { query: { ...query, limit: JOURNAL_PAGE, cursor: reset ? null : cursor } });
        if (reset) list.replaceChildren();
        for (const entry of page.items || []) list.append(entryRow(entry));
        cursor = page.next_cursor || null;
        more.hidden = !cursor;
        empty.hidden = list.children.length > 0;
        showListError(null);
      } catch (error) {
        showListError(error);
      } finally {
        loading = false;
        more.disabled = false;
      }
    }

    function clearErrors() {
      for (const { error } of Object.values(fields)) { error.hidden = true; error.textContent = ""; }
      formError.hidden = true;
      formError.textContent = "";
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors();
      const draft = {
        kind: kind.control.value,
        body: text.control.value,
        tags: tags.control.value.split(",").map((t) => t.trim()).filter(Boolean),
      };
      if (symbol.control.value.trim()) draft.symbol = symbol.control.value.trim();
      submit.disabled = true;
      try {
        const entry = await api("/journal", { method: "POST", body: draft });
        const matches = (!query.kind || query.kind === entry.kind) && (!query.symbol || query.symbol === entry.symbol);
        if (matches) list.prepend(entryRow(entry));
        empty.hidden = list.children.length > 0;
        text.control.value = "";
        tags.control.value = "";
        text.control.focus();
      } catch (error) {
        const byField = fieldErrors(error);
        let shown = false;
        for (const [name, message] of Object.entries(byField)) {
          if (!fields[name]) continue;
          fields[name].error.textContent = message;
          fields[name].error.hidden = false;
          fields[name].control.setAttribute("aria-invalid", "true");
          shown = true;
        }
        if (!shown || Object.keys(byField).some((name) => !fields[name])) {
          formError.textContent = error.message;
          formError.hidden = false;
        }
      } finally {
        submit.disabled = false;
      }
    });
    for (const { control } of Object.values(fields)) {
      control.addEventListener("input", () => control.removeAttribute("aria-invalid"));
    }
    text.control.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
    });

    filters.addEventListener("submit", (event) => {
      event.preventDefault();
      query = { symbol: filterSymbol.value.trim().toUpperCase(), kind: filterKind.value };
      load({ reset: true });
    });
    more.addEventListener("click", () => load({ reset: false }));
    refreshButton.addEventListener("click", () => load({ reset: true }));
    listen("ui:session", () => load({ reset: true }));
  },
});

// -------------------------------------------------------------------------------------------- 8. shell

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

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
