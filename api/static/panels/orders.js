// Positions & orders panel: live tables with one-click next actions, each opening a confirm dialog.
//
// First paint: GET /stream/positions and /stream/orders. Then `positions` / `orders` events replace the tables.
// Trim 50% / Close / Stop to BE / Cancel never send an order: they PROPOSE one (POST /broker/orders, or
// DELETE /broker/orders/{id} for a cancel), and the dialog shows the exact order, the broker's preview, the risk
// decision and a PAPER/LIVE badge. Only Confirm (POST /broker/orders/{intent}/confirm {token}) sends it; closing
// the dialog cancels the intent. Everything shown is text (text nodes / textContent), never HTML.

import { api, formatTime, registerPanel } from "/static/app.js";

const STYLE_HREF = "/static/panels/orders.css";
const OCC = /^([A-Z]{1,6})(\d{6})([CP])(\d{8})$/;

if (!document.querySelector(`link[href="${STYLE_HREF}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = STYLE_HREF;
  document.head.append(link);
}

/** The order that exits `fraction` of a position (market), or protects all of it with a GTC stop. */
export function exitOrder(position, { fraction = 1, stop = null } = {}) {
  const size = Math.abs(Number(position.quantity));
  const quantity = stop === null ? Math.floor(size * fraction) : size;
  if (!(quantity >= 1)) throw new Error(`${Math.round(fraction * 100)}% of ${size} is less than one unit`);
  const long = Number(position.quantity) > 0;
  const occ = OCC.exec(position.symbol);
  const order = { quantity, type: stop === null ? "market" : "stop", duration: stop === null ? "day" : "gtc" };
  if (stop !== null) order.stop = String(stop);
  if (occ) {
    Object.assign(order, { symbol: occ[1], option_symbol: position.symbol, class: "option",
      side: long ? "sell_to_close" : "buy_to_close" });
  } else {
    Object.assign(order, { symbol: position.symbol, class: "equity", side: long ? "sell" : "buy_to_cover" });
  }
  return order;
}

function money(value) {
  if (value === null || value === undefined || value === "") return "—";
  return String(value);
}

function pnlClass(value) {
  const n = Number(value);
  if (!Number.isFinite(n) || n === 0) return "flat";
  return n > 0 ? "up" : "down";
}

registerPanel({
  id: "orders",
  title: "Positions & orders",
  column: "main",
  order: 8,
  mount(body, { on: listen, h, setChildren }) {
    const mode = h("span", { class: "tag mode-badge", testid: "orders-mode", dataset: { mode: "unknown" } }, "—");
    const notice = h("p", { class: "how", testid: "orders-notice", hidden: true });
    const positionsBody = h("tbody", { testid: "positions-rows" });
    const ordersBody = h("tbody", { testid: "orders-rows" });
    const message = h("p", { class: "muted small", testid: "orders-message", role: "status", "aria-live": "polite" });
    const table = (caption, heads, tbody, testid) => h("table", { class: "grid orders-table", testid },
      h("caption", {}, caption), h("thead", {}, h("tr", {}, heads.map((x) => h("th", { scope: "col" }, x)))), tbody);
    setChildren(body,
      h("div", { class: "orders-head" }, h("span", { class: "muted small" }, "account: "), mode),
      notice,
      table("Positions", ["Symbol", "Qty", "Avg", "Last", "Unrealized", "R", ""], positionsBody, "positions-table"),
      table("Orders today", ["Symbol", "Side", "Qty", "Type", "Price", "Status", "Source", ""], ordersBody,
        "orders-table"),
      message);

    // --- confirm dialog ---------------------------------------------------------------------------------
    const dialog = h("dialog", { class: "confirm-dialog card", testid: "order-dialog", "aria-labelledby": "order-dialog-title" });
    document.body.append(dialog);
    let current = null;  // {intent, token}

    const kv = (pairs) => h("dl", { class: "kv" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
      .map(([k, v]) => [h("dt", {}, k), h("dd", {}, typeof v === "object" ? JSON.stringify(v) : String(v))]));

    function orderPairs(intent) {
      const order = intent.action === "replace" ? { ...intent.order.result, changes: intent.order.changes } : intent.order;
      const pairs = Object.entries(order || {}).filter(([k]) => !["legs", "original", "tag"].includes(k));
      if (intent.action !== "place") pairs.unshift(["order id", intent.target_order_id]);
      return pairs;
    }

    function openDialog(title, proposal, error) {
      const intent = proposal?.intent || error?.details?.intent || null;
      const risk = proposal?.risk || error?.details?.risk || null;
      const badge = (proposal?.mode || error?.details?.mode || mode.dataset.mode || "").toUpperCase();
      current = proposal?.token && intent ? { intent, token: proposal.token } : null;
      const result = h("p", { class: "field-error", testid: "order-dialog-result", role: "alert", hidden: true });
      const confirm = h("button", { type: "button", class: "btn primary", testid: "order-confirm",
        disabled: !current, onclick: () => doConfirm(confirm, result) }, "Confirm");
      const close = h("button", { type: "button", class: "btn", testid: "order-cancel",
        onclick: () => closeDialog(true) }, current ? "Cancel" : "Close");
      setChildren(dialog,
        h("header", { class: "dialog-head" },
          h("h2", { id: "order-dialog-title" }, title),
          h("span", { class: `tag mode-badge`, testid: "order-dialog-mode", dataset: { mode: badge } }, badge || "?")),
        intent ? [h("h3", {}, "Order"), kv(orderPairs(intent))] : null,
        proposal?.preview ? [h("h3", {}, "Broker preview"), kv(Object.entries(proposal.preview))] : null,
        risk ? [h("h3", {}, "Risk"), h("p", { class: `risk-decision ${risk.decision}`, testid: "order-dialog-risk" },
          `${risk.decision}: ${risk.reason}`)] : null,
        error && !risk ? h("p", { class: "field-error", testid: "order-dialog-error" }, error.message) : null,
        intent?.expires_at ? h("p", { class: "muted small" }, `confirm before ${formatTime(intent.expires_at)}`) : null,
        result,
        h("div", { class: "dialog-actions" }, close, confirm));
      if (!dialog.open) dialog.showModal();
    }

    async function closeDialog(cancelIntent) {
      const pending = current;
      current = null;
      if (dialog.open) dialog.close();
      if (cancelIntent && pending) {
        try { await api(`/broker/orders/${encodeURIComponent(pending.intent.id)}/cancel-intent`, { method: "POST" }); }
        catch { /* already handled or expired: nothing to undo */ }
      }
    }
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); closeDialog(true); });

    // Alert chips and coach suggestions draft intents elsewhere; they open this same dialog to confirm them.
    window.openOrderConfirm = async ({ intent_id: intentId, token }) => {
      message.textContent = "";
      try {
        const intent = await api(`/broker/orders/intents/${encodeURIComponent(intentId)}`);
        openDialog("Confirm order", { intent, token, preview: intent.preview, risk: intent.risk }, null);
      } catch (error) {
        openDialog("Confirm order", null, error);
      }
    };

    async function doConfirm(button, result) {
      if (!current) return;
      const { intent, token } = current;
      button.disabled = true;
      try {
        const done = await api(`/broker/orders/${encodeURIComponent(intent.id)}/confirm`, { method: "POST", body: { token } });
        current = null;
        const status = done?.intent?.status || done?.outcome;
        message.textContent = status === "UNKNOWN"
          ? "The broker did not answer; the order is being looked up, never resent. Check the orders table."
          : `Order ${status?.toLowerCase() || "sent"}${done?.intent?.broker_order_id ? ` (#${done.intent.broker_order_id})` : ""}.`;
        dialog.close();
      } catch (error) {
        result.hidden = false;
        result.textContent = error.message;
        current = null;
      }
    }

    async function propose(title, request) {
      message.textContent = "";
      try {
        openDialog(title, await request(), null);
      } catch (error) {
        openDialog(title, null, error);
      }
    }

    // --- tables -----------------------------------------------------------------------------------------
    const chip = (label, testid, handler) => h("button", { type: "button", class: "btn small", testid, onclick: handler }, label);

    function renderPositions(items) {
      const rows = (items || []).map((p) => {
        const act = (label, options) => propose(`${label} ${p.symbol}`, () => api("/broker/orders", {
          method: "POST", body: { ...exitOrder(p, options), rationale: `${label} from the dashboard`, source: "dashboard" } }));
        const guard = (label, options) => () => {
          try { exitOrder(p, options); } catch (error) { message.textContent = error.message; return; }
          act(label, options);
        };
        return h("tr", { dataset: { symbol: p.symbol }, testid: `position-${p.symbol}` },
          h("td", {}, p.symbol), h("td", { class: "num" }, p.quantity), h("td", { class: "num" }, money(p.average_price)),
          h("td", { class: "num" }, money(p.last)),
          h("td", { class: `num ${pnlClass(p.unrealized_pnl)}` }, p.unrealized_pnl === null ? "—"
            : `${p.unrealized_pnl}${p.unrealized_pct !== null ? ` (${p.unrealized_pct}%)` : ""}`),
          h("td", { class: "num", title: p.plan ? `plan entry ${p.plan.entry}, stop ${p.plan.stop}` : "no linked plan" },
            p.r_multiple === null || p.r_multiple === undefined ? "—" : `${p.r_multiple}R`),
          h("td", { class: "actions" },
            chip("Trim 50%", `trim-${p.symbol}`, guard("Trim 50%", { fraction: 0.5 })),
            chip("Close", `close-${p.symbol}`, guard("Close", { fraction: 1 })),
            chip("Stop to BE", `stop-be-${p.symbol}`, guard("Stop to BE", { stop: p.average_price }))));
      });
      setChildren(positionsBody, rows.length ? rows : h("tr", {}, h("td", { colspan: "7", class: "muted" }, "no open positions")));
    }

    function renderOrders(items) {
      const rows = (items || []).map((o) => {
        const source = o.manual ? "manual" : o.intent_id ? (o.intent_status || "ours").toLowerCase() : "";
        const price = [o.price ? `@ ${o.price}` : "", o.stop ? `stop ${o.stop}` : ""].filter(Boolean).join(" ");
        return h("tr", { dataset: { status: String(o.status || "") }, testid: `order-${o.id || o.intent_id}` },
          h("td", {}, o.option_symbol || o.symbol || "—"), h("td", {}, o.side || ""), h("td", { class: "num" }, o.quantity ?? ""),
          h("td", {}, o.type || ""), h("td", { class: "num" }, price), h("td", {}, o.status || ""),
          h("td", {}, o.manual ? h("span", { class: "tag warn", title: "placed outside this assistant" }, "manual") : source),
          h("td", { class: "actions" }, o.working && o.id ? chip("Cancel", `cancel-${o.id}`, () => propose(
            `Cancel order #${o.id}`, () => api(`/broker/orders/${encodeURIComponent(o.id)}`, { method: "DELETE" }))) : null));
      });
      setChildren(ordersBody, rows.length ? rows : h("tr", {}, h("td", { colspan: "8", class: "muted" }, "no orders today")));
    }

    function setMode(value) {
      if (!value) return;
      mode.textContent = value;
      mode.dataset.mode = value;
    }

    async function firstPaint() {
      try {
        const [positions, orders] = await Promise.all([api("/stream/positions"), api("/stream/orders")]);
        notice.hidden = true;
        setMode(positions.mode || orders.mode);
        renderPositions(positions.items);
        renderOrders(orders.items);
      } catch (error) {
        const how = error.details?.how_to_enable;
        notice.hidden = false;
        setChildren(notice, error.message, how ? [h("br"), h("strong", {}, "How to enable: "), how] : null);
        renderPositions([]);
        renderOrders([]);
      }
    }

    listen("ui:session", firstPaint);
    listen("positions", (event) => renderPositions(event.items));
    listen("orders", (event) => renderOrders(event.items));
  },
});
