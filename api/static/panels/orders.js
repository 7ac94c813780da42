// Orders & positions: one tile per open position (quantity, average, last, unrealized P&L, the R when it came
// from a plan) with Trim / Close / Stop to breakeven / Roll / Hedge, and today's orders with Modify and Cancel.
//
// First paint: GET /stream/positions and /stream/orders; then `positions` / `orders` events replace them.
// Nothing is sent from here: a tile button runs POST /actions {"target": "position", "id": symbol, "action"},
// Modify proposes a replace (PUT /broker/orders/{id}) and Cancel a cancel (DELETE): each opens the confirm
// dialog (confirm.js) with the order, the bracket or dollar effect, the broker's preview and the risk verdict.
// Text only, never HTML.

import { api, registerPanel, scrollBox, useStyle } from "/static/app.js";
import { onConfirmOutcome, propose, runAction } from "/static/confirm.js";
import { money, pct, price, qty, rMultiple, words } from "/static/format.js";

useStyle("/static/panels/orders.css");

const OCC = /^([A-Z]{1,6})(\d{6})([CP])(\d{8})$/;

function pnlClass(value) {
  const n = Number(value);
  if (!Number.isFinite(n) || n === 0) return "flat";
  return n > 0 ? "up" : "down";
}

/** The buttons of a position: options can be rolled, stock can be hedged. */
function positionActions(symbol) {
  const option = OCC.test(symbol);
  return [["trim", "Trim 50%"], ["close", "Close"], ["breakeven", "Stop to BE"],
    option ? ["roll", "Roll"] : ["hedge", "Hedge"]];
}
const TESTIDS = { trim: "trim", close: "close", breakeven: "stop-be", roll: "roll", hedge: "hedge" };

registerPanel({
  id: "orders",
  title: "Positions & orders",
  page: "orders",
  order: 1,
  wide: true,
  mount(body, { on, h, setChildren }) {
    const mode = h("span", { class: "tag mode-badge", testid: "orders-mode", dataset: { mode: "unknown" } }, "—");
    const notice = h("p", { class: "how", testid: "orders-notice", hidden: true });
    const tiles = h("ul", { class: "position-tiles", testid: "positions", "aria-label": "Open positions" });
    const ordersBody = h("tbody", { testid: "orders-rows" });
    const message = h("p", { class: "small", testid: "orders-message", role: "status", "aria-live": "polite" });
    const modify = h("form", { class: "modify-form", testid: "modify-form", novalidate: true, hidden: true,
      "aria-label": "Modify order" });
    setChildren(body,
      h("div", { class: "orders-head" }, h("span", { class: "muted small" }, "account: "), mode),
      notice, message,
      h("h3", {}, "Positions"), tiles,
      h("h3", {}, "Orders today"),
      scrollBox("Orders today", h("table", { class: "grid orders-table", testid: "orders-table" },
        h("caption", { class: "sr-only" }, "Orders today"),
        h("thead", {}, h("tr", {}, ["Symbol", "Side", "Qty", "Type", "Price", "Status", "Source", "Actions"]
          .map((x) => h("th", { scope: "col" }, x)))), ordersBody)),
      modify);
    onConfirmOutcome((text) => { message.textContent = text; });

    function tile(p) {
      const buttons = positionActions(p.symbol).map(([action, label]) => {
        const button = h("button", { type: "button", class: `btn ${action === "close" ? "danger" : ""}`,
          testid: `${TESTIDS[action]}-${p.symbol}`, "aria-label": `${label} ${p.symbol}` }, label);
        button.addEventListener("click", async () => {
          button.disabled = true;
          message.textContent = "";
          const result = await runAction({ target: "position", id: p.symbol, action }, `${label} ${p.symbol}`);
          message.textContent = result.message;
          button.disabled = false;
        });
        return button;
      });
      const r = p.r_multiple === null || p.r_multiple === undefined ? null : p.r_multiple;
      return h("li", { class: "position-tile", testid: `position-${p.symbol}`, dataset: { symbol: p.symbol } },
        h("div", { class: "tile-head" },
          h("strong", { class: "symbol" }, p.symbol),
          h("span", { class: "mono" }, `${qty(p.quantity)} @ ${price(p.average_price)}`),
          r === null ? null : h("span", { class: `tag r ${pnlClass(r)}`, testid: "position-r",
            title: p.plan ? `plan entry ${price(p.plan.entry)}, stop ${price(p.plan.stop)}` : "" }, rMultiple(r))),
        h("dl", { class: "kv tile-numbers" },
          h("dt", {}, "Last"), h("dd", {}, price(p.last)),
          h("dt", {}, "Unrealized"), h("dd", { class: pnlClass(p.unrealized_pnl) },
            p.unrealized_pnl === null || p.unrealized_pnl === undefined ? "—"
              : `${money(p.unrealized_pnl, { signed: true })}${p.unrealized_pct === null || p.unrealized_pct === undefined
                ? "" : ` (${pct(p.unrealized_pct, { signed: true })})`}`),
          h("dt", {}, "R"), h("dd", {}, r === null ? "no linked plan" : rMultiple(r))),
        h("div", { class: "tile-actions", role: "group", "aria-label": `${p.symbol} actions` }, buttons));
    }

    function renderPositions(items) {
      setChildren(tiles, (items || []).length ? items.map(tile)
        : h("li", { class: "muted", testid: "positions-empty" }, "No open positions."));
    }

    function openModify(o) {
      const priceInput = h("input", { id: "modify-price", inputmode: "decimal", value: o.price ?? "" });
      const stopInput = h("input", { id: "modify-stop", inputmode: "decimal", value: o.stop ?? "" });
      const cancel = h("button", { type: "button", class: "btn ghost" }, "Close");
      cancel.addEventListener("click", () => { modify.hidden = true; });
      setChildren(modify, h("h3", {}, `Modify order #${o.id} (${o.symbol})`),
        h("div", { class: "form-row" },
          h("div", { class: "field" }, h("label", { for: "modify-price" }, "Limit price"), priceInput),
          h("div", { class: "field" }, h("label", { for: "modify-stop" }, "Stop price"), stopInput)),
        h("div", { class: "form-row end" }, cancel,
          h("button", { type: "submit", class: "btn primary", testid: "modify-submit" }, "Review change")));
      modify.onsubmit = (event) => {
        event.preventDefault();
        const changes = {};
        if (priceInput.value.trim() && priceInput.value.trim() !== String(o.price ?? "")) changes.price = priceInput.value.trim();
        if (stopInput.value.trim() && stopInput.value.trim() !== String(o.stop ?? "")) changes.stop = stopInput.value.trim();
        if (!Object.keys(changes).length) { message.textContent = "Change the price or the stop first."; return; }
        modify.hidden = true;
        propose(`Modify order #${o.id}`, () => api(`/broker/orders/${encodeURIComponent(o.id)}`,
          { method: "PUT", body: { ...changes, source: "dashboard" } }));
      };
      modify.hidden = false;
      priceInput.focus();
    }

    function renderOrders(items) {
      const rows = (items || []).map((o) => {
        const source = o.manual ? "manual" : o.intent_id ? words((o.intent_status || "ours").toLowerCase()) : "—";
        const at = [o.price ? `@ ${price(o.price)}` : "", o.stop ? `stop ${price(o.stop)}` : ""].filter(Boolean).join(" ");
        const buttons = [];
        if (o.working && o.id) {
          const edit = h("button", { type: "button", class: "btn small", testid: `modify-${o.id}`,
            "aria-label": `Modify order ${o.id}` }, "Modify");
          edit.addEventListener("click", () => openModify(o));
          const cancel = h("button", { type: "button", class: "btn small danger", testid: `cancel-${o.id}`,
            "aria-label": `Cancel order ${o.id}` }, "Cancel");
          cancel.addEventListener("click", () => propose(`Cancel order #${o.id}`,
            () => api(`/broker/orders/${encodeURIComponent(o.id)}`, { method: "DELETE" })));
          buttons.push(edit, cancel);
        }
        return h("tr", { dataset: { status: String(o.status || "") }, testid: `order-${o.id || o.intent_id}` },
          h("th", { scope: "row" }, o.option_symbol || o.symbol || "—"), h("td", {}, words(o.side || "")),
          h("td", { class: "num" }, qty(o.quantity)), h("td", {}, words(o.type || "")), h("td", { class: "num" }, at || "—"),
          h("td", {}, words(o.status || "")),
          h("td", {}, o.manual ? h("span", { class: "tag warn", title: "placed outside this assistant" }, "manual") : source),
          h("td", { class: "actions" }, buttons));
      });
      setChildren(ordersBody, rows.length ? rows : h("tr", {}, h("td", { colspan: "8", class: "muted" }, "No orders today.")));
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

    on("ui:session", firstPaint);
    on("positions", (event) => renderPositions(event.items));
    on("orders", (event) => renderOrders(event.items));
  },
});
