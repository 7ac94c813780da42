// Watchlist panel: live last / change / bid / ask per symbol, stale badges, feed status and lag, add/remove.
//
// First paint: GET /settings (the watchlist) + GET /stream/prices (the engine's snapshot). Then:
//   `price` events       update one row (coalesced server-side, at most PRICE_EVENT_HZ per symbol)
//   `status` events      the `market_data` entry: feed state, market session, lag percentiles, stale symbols,
//                        or the disabled reason and how to enable it (app.js merges status per integration)
// Add/remove is PUT /settings {"watchlist": [...]}; the server resubscribes the Polygon socket live.
// Everything shown is text (textContent / text nodes), never HTML.

import { api, fieldErrors, registerPanel, scrollBox, useStyle } from "/static/app.js";
import { duration, pct, price, signed, time } from "/static/format.js";

const SNAPSHOT_REFRESH_MS = 5000;
const FEED_LABELS = {
  streaming: "streaming",
  polling: "polling, not streaming",
  connecting: "connecting",
  authenticating: "authenticating",
  backoff: "reconnecting",
  auth_failed: "refused by Polygon",
  max_connections: "too many connections",
  rest_only: "REST only",
  disabled: "disabled",
  stopped: "stopped",
  idle: "starting",
};

useStyle("/static/panels/watchlist.css");

function direction(text) {
  const value = Number(text);
  if (!Number.isFinite(value) || value === 0) return "flat";
  return value > 0 ? "up" : "down";
}

registerPanel({
  id: "watchlist",
  title: "Watchlist",
  page: "dashboard",
  order: 2,
  mount(body, { on: listen, h, setChildren, actions }) {
    // --- feed status strip
    const feedState = h("span", { class: "tag", testid: "watchlist-feed-state", dataset: { state: "unknown" } },
      "feed: waiting…");
    const market = h("span", { class: "tag", testid: "watchlist-market", hidden: true });
    const lag = h("span", { class: "muted small mono", testid: "watchlist-lag", title: "Feed lag: receive time minus exchange timestamp" });
    const feedReason = h("span", { class: "muted small", testid: "watchlist-feed-reason" });
    const disabled = h("div", { class: "how watch-disabled", testid: "watchlist-disabled", role: "status", hidden: true });

    // --- table
    const rows = h("tbody", { testid: "watchlist-rows" });
    const table = h("table", { class: "watch-table", testid: "watchlist-table", "aria-label": "Watchlist prices" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Symbol"), h("th", { scope: "col", class: "num" }, "Last"),
        h("th", { scope: "col", class: "num" }, "Change"), h("th", { scope: "col", class: "num" }, "Bid"),
        h("th", { scope: "col", class: "num" }, "Ask"), h("th", { scope: "col" }, "As of"),
        h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Remove")))),
      rows);
    const tableWrap = scrollBox("Watchlist prices", table);
    const empty = h("p", { class: "muted", testid: "watchlist-empty", hidden: true },
      "The watchlist is empty. Add a symbol below.");

    // --- add form
    const input = h("input", { type: "text", id: "watchlist-add-input", testid: "watchlist-add-input",
      autocomplete: "off", spellcheck: "false", placeholder: "AAPL, BRK.B", maxlength: "24",
      "aria-describedby": "watchlist-error" });
    const addButton = h("button", { type: "submit", class: "btn", testid: "watchlist-add" }, "Add");
    const errorLine = h("p", { class: "field-error", id: "watchlist-error", testid: "watchlist-error", role: "alert",
      hidden: true });
    const form = h("form", { class: "watch-form", testid: "watchlist-form", novalidate: true,
      "aria-label": "Add a symbol to the watchlist" },
    h("label", { for: input.id }, "Add symbol"), input, addButton);

    const refreshButton = h("button", { type: "button", class: "btn ghost small", testid: "watchlist-refresh",
      title: "Reload the watchlist" }, "Refresh");
    actions.append(refreshButton);

    setChildren(body,
      h("div", { class: "watch-status" }, feedState, market, lag, feedReason),
      disabled, tableWrap, empty, form, errorLine);

    // --- state
    let watchlist = [];
    const view = new Map();       // symbol -> {row, cells, data}
    let staleSet = null;          // symbols the server reports stale (null until a status event says)
    let enabled = null;

    function showError(message) {
      errorLine.textContent = message || "";
      errorLine.hidden = !message;
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }

    function makeRow(symbol) {
      const cell = (testid, cls = "num") => h("td", { class: cls, testid });
      const cells = {
        last: cell("watch-last"), change: cell("watch-change"), bid: cell("watch-bid"), ask: cell("watch-ask"),
        asOf: cell("watch-as-of", "as-of"),
      };
      const stale = h("span", { class: "tag warn", testid: "watch-stale", hidden: true }, "stale");
      const remove = h("button", { type: "button", class: "btn ghost small danger", testid: "watch-remove",
        "aria-label": `Remove ${symbol} from the watchlist` }, "×");
      remove.addEventListener("click", () => save(watchlist.filter((s) => s !== symbol)));
      const row = h("tr", { class: "watch-row", testid: "watch-row", dataset: { symbol, stale: "true" } },
        h("th", { scope: "row", class: "symbol" },
          h("a", { href: `#/chart/${encodeURIComponent(symbol)}`, title: `Chart ${symbol}` }, symbol), " ", stale),
        cells.last, cells.change, cells.bid, cells.ask, cells.asOf, h("td", { class: "act" }, remove));
      return { row, cells, stale, data: {} };
    }

    function paint(symbol) {
      const item = view.get(symbol);
      if (!item) return;
      const d = item.data;
      const known = d.last !== null && d.last !== undefined;
      item.cells.last.textContent = price(d.last);
      item.cells.bid.textContent = price(d.bid);
      item.cells.ask.textContent = price(d.ask);
      if (d.change !== null && d.change !== undefined) {
        const share = d.change_pct !== null && d.change_pct !== undefined ? ` (${pct(d.change_pct, { dp: 2, signed: true })})` : "";
        item.cells.change.textContent = `${signed(d.change)}${share}`;
        item.cells.change.dataset.dir = direction(d.change);
      } else {
        item.cells.change.textContent = "—";
        item.cells.change.dataset.dir = "flat";
      }
      item.cells.asOf.textContent = d.as_of ? time(d.as_of) : "";
      item.cells.asOf.title = d.as_of || "";
      const isStale = !known || (staleSet ? staleSet.has(symbol) : Boolean(d.stale));
      item.row.dataset.stale = String(isStale);
      item.stale.hidden = !isStale || enabled === false;
      item.stale.textContent = known ? "stale" : "no data";
    }

    function renderRows() {
      for (const symbol of [...view.keys()]) {
        if (!watchlist.includes(symbol)) { view.get(symbol).row.remove(); view.delete(symbol); }
      }
      watchlist.forEach((symbol) => {
        if (!view.has(symbol)) view.set(symbol, makeRow(symbol));
        rows.append(view.get(symbol).row);  // re-append keeps the watchlist's order
        paint(symbol);
      });
      empty.hidden = watchlist.length > 0;
      table.hidden = watchlist.length === 0;
    }

    function applySnapshot(snapshot) {
      for (const item of snapshot.items || []) {
        const entry = view.get(item.symbol);
        if (!entry) continue;
        entry.data = { ...entry.data, ...item };
        paint(item.symbol);
      }
      if (snapshot.market_data) showStatus(snapshot.market_data);
    }

    async function loadSnapshot() {
      try {
        applySnapshot(await api("/stream/prices"));
      } catch (error) {
        if (error.status !== 401) console.warn("watchlist: /stream/prices failed", error);
      }
    }

    async function load() {
      try {
        const settings = await api("/settings");
        watchlist = Array.isArray(settings.watchlist) ? settings.watchlist.map(String) : [];
        renderRows();
        showError("");
      } catch (error) {
        if (error.status !== 401) showError(`Could not load the watchlist: ${error.message}`);
        return;
      }
      await loadSnapshot();
    }

    async function save(next) {
      addButton.disabled = true;
      try {
        const updated = await api("/settings", { method: "PUT", body: { watchlist: next } });
        watchlist = (updated.watchlist || []).map(String);
        renderRows();
        showError("");
        setTimeout(loadSnapshot, 300);  // the previous close of a new symbol loads in the background
        return true;
      } catch (error) {
        const byField = fieldErrors(error);
        showError(byField.watchlist || error.message);
        return false;
      } finally {
        addButton.disabled = false;
      }
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const symbol = input.value.trim().toUpperCase();
      if (!symbol) { showError("Enter a symbol, e.g. AAPL."); return; }
      if (watchlist.includes(symbol)) { showError(`${symbol} is already in the watchlist.`); return; }
      if (await save([...watchlist, symbol])) {
        input.value = "";
        input.focus();
      }
    });
    input.addEventListener("input", () => showError(""));
    refreshButton.addEventListener("click", load);

    function showStatus(status) {
      if (!status || typeof status !== "object") return;
      enabled = status.enabled !== false;
      disabled.hidden = enabled;
      if (!enabled) {
        const reason = status.reason || "no API key";
        const how = status.how_to_enable || "set POLYGON_API_KEY and restart";
        setChildren(disabled, h("strong", {}, "Market data disabled: "), `${reason} — ${how}.`);
      }
      const state = enabled ? String(status.state || (status.feed && status.feed.state) || "unknown") : "disabled";
      feedState.dataset.state = state;
      feedState.textContent = `feed: ${FEED_LABELS[state] || state}`;
      feedState.className = `tag ${state === "streaming" ? "ok" : state === "disabled" ? "off" : "warn"}`;
      feedReason.textContent = enabled && status.reason ? String(status.reason) : "";
      market.hidden = !enabled || !status.market;
      market.textContent = status.market ? `market ${status.market}` : "";
      const feedLag = status.feed_lag_ms;
      lag.textContent = enabled && feedLag ? `lag p50 ${duration(feedLag.p50)} · p95 ${duration(feedLag.p95)}` : "";
      if (Array.isArray(status.stale)) staleSet = new Set(status.stale.map(String));
      for (const symbol of view.keys()) paint(symbol);
    }

    listen("status", (event) => showStatus(event.integrations && event.integrations.market_data));
    listen("price", (event) => {
      const entry = view.get(event.symbol);
      if (!entry) return;  // the engine also watches alert symbols; this panel shows the watchlist only
      entry.data = { ...entry.data, last: event.last, bid: event.bid, ask: event.ask, change: event.change,
        change_pct: event.change_pct, as_of: event.as_of, stale: false };
      if (staleSet) staleSet.delete(event.symbol);  // fresh data now; the next status event has the final word
      paint(event.symbol);
    });
    listen("ui:session", load);
    listen("ui:settings", ({ settings }) => {  // saved on the Settings page
      if (!Array.isArray(settings?.watchlist)) return;
      watchlist = settings.watchlist.map(String);
      renderRows();
      loadSnapshot();
    }, { replay: false });
    setInterval(() => { if (watchlist.length && !document.hidden) loadSnapshot(); }, SNAPSHOT_REFRESH_MS);
  },
});
