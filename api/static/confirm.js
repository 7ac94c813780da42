// The one confirm dialog for anything that would send an order: a proposal (POST /broker/orders, a replace or
// cancel, or an action outcome of POST /actions) shown as the order in words, the bracket (entry, stop, target,
// quantity, 1R in dollars), the dollar effect of a roll or hedge, the broker's preview and the risk verdict,
// with the PAPER/LIVE badge. Nothing is sent before Confirm (POST /broker/orders/{intent}/confirm {token});
// closing the dialog cancels the intent. Text only, never HTML.

import { api, h, setChildren } from "/static/app.js";
import { money, price, qty, time, words } from "/static/format.js";

const dialog = h("dialog", { class: "confirm-dialog card", testid: "order-dialog", "aria-labelledby": "order-dialog-title" });
let current = null;  // {intent, token}
const listeners = new Set();

/** Call `fn(message)` after every confirm or cancel (the orders page shows the outcome). */
export function onConfirmOutcome(fn) {
  listeners.add(fn);
}

function announce(message) {
  for (const fn of listeners) fn(message);
}

function attach() {
  if (!dialog.isConnected) document.body.append(dialog);
}

/** An order as a sentence: "Buy 15 AAPL limit @ $190.50 (day)". */
export function orderSentence(order) {
  if (!order) return "";
  const side = words(order.side || "");
  const what = order.option_symbol || order.symbol || "";
  const at = [order.price ? `@ ${money(order.price)}` : "", order.stop ? `stop ${money(order.stop)}` : "",
    order.take_profit ? `target ${money(order.take_profit)}` : "", order.stop_loss ? `stop ${money(order.stop_loss)}` : ""]
    .filter(Boolean).join(" ");
  const legs = (order.legs || []).map((leg) => `${words(leg.side)} ${qty(leg.quantity)} ${leg.option_symbol}`).join(", ");
  return [side.charAt(0).toUpperCase() + side.slice(1), qty(order.quantity), what, words(order.type || ""), at,
    order.duration ? `(${order.duration})` : "", legs ? `— ${legs}` : ""].filter(Boolean).join(" ");
}

function intentSentence(intent) {
  const order = intent?.order || {};
  if (intent?.action === "cancel") return `Cancel order #${intent.target_order_id}: ${orderSentence(order)}`;
  if (intent?.action === "replace") {
    const changes = Object.entries(order.changes || {}).map(([k, v]) => `${k} ${v}`).join(", ");
    return `Modify order #${intent.target_order_id}: ${changes} → ${orderSentence(order.result || {})}`;
  }
  return orderSentence(order);
}

const PREVIEW_ROWS = [["cost", "Cost"], ["order_cost", "Order cost"], ["commission", "Commission"], ["fees", "Fees"],
  ["margin_change", "Margin change"], ["buying_power_effect", "Buying power effect"]];

function kv(rows, testid) {
  const shown = rows.filter(([, value]) => value !== null && value !== undefined && value !== "" && value !== "—");
  return h("dl", { class: "kv", testid }, shown.map(([term, value, id]) => [h("dt", {}, term),
    h("dd", { class: "mono", testid: id }, String(value))]));
}

/** Entry, stop, target, quantity, 1R in dollars of a bracket (from an action outcome). */
function bracketView(bracket) {
  if (!bracket) return null;
  return [h("h3", {}, "Bracket"), kv([
    ["Entry", price(bracket.entry), "bracket-entry"],
    ["Stop", price(bracket.stop), "bracket-stop"],
    ["Target", bracket.target ? price(bracket.target) : "none", "bracket-target"],
    ["Quantity", qty(bracket.quantity), "bracket-quantity"],
    ["1R", money(bracket.one_r_dollars), "bracket-one-r"],
  ], "order-dialog-bracket")];
}

function effectView(effect) {
  if (!effect) return null;
  return [h("h3", {}, "Effect"), h("p", { testid: "order-dialog-effect" },
    `${effect.label}: ${money(effect.dollars, { signed: true })}`, effect.detail ? ` — ${effect.detail}` : "")];
}

function previewView(preview) {
  if (!preview) return null;
  const rows = PREVIEW_ROWS.map(([key, label]) => [label, preview[key] === null || preview[key] === undefined
    ? null : money(preview[key])]);
  if (preview.day_trades !== null && preview.day_trades !== undefined) rows.push(["Day trades", String(preview.day_trades)]);
  return [h("h3", {}, "Broker preview"),
    h("p", { class: "small", testid: "order-dialog-preview-ok" }, preview.ok === false ? "The broker would refuse it."
      : "The broker accepts it."),
    kv(rows, "order-dialog-preview"),
    (preview.warnings || []).length ? h("ul", { class: "small" }, preview.warnings.map((w) => h("li", {}, String(w)))) : null];
}

/**
 * Show a proposal. `proposal`: the POST /broker/orders body ({intent, preview, risk, token, mode}) or null with
 * `error` (a denied proposal carries the risk decision in its details). `extra`: {bracket, effect, message}.
 */
export function openProposal(title, proposal, { error = null, bracket = null, effect = null, message = "" } = {}) {
  attach();
  const intent = proposal?.intent || error?.details?.intent || null;
  const risk = proposal?.risk || error?.details?.risk || null;
  const mode = String(proposal?.mode || error?.details?.mode || "").toUpperCase();
  current = proposal?.token && intent ? { intent, token: proposal.token } : null;
  const result = h("p", { class: "field-error", testid: "order-dialog-result", role: "alert", hidden: true });
  const confirm = h("button", { type: "button", class: "btn primary", testid: "order-confirm", disabled: !current },
    "Confirm");
  confirm.addEventListener("click", () => doConfirm(confirm, result));
  const close = h("button", { type: "button", class: "btn", testid: "order-cancel" }, current ? "Cancel" : "Close");
  close.addEventListener("click", () => closeDialog(true));
  setChildren(dialog,
    h("header", { class: "dialog-head" },
      h("h2", { id: "order-dialog-title" }, title),
      mode ? h("span", { class: "tag mode-badge", testid: "order-dialog-mode", dataset: { mode } }, mode) : null),
    message ? h("p", { testid: "order-dialog-message" }, message) : null,
    intent ? [h("h3", {}, "Order"), h("p", { class: "mono", testid: "order-dialog-order" }, intentSentence(intent))] : null,
    bracketView(bracket),
    effectView(effect),
    previewView(proposal?.preview),
    risk ? [h("h3", {}, "Risk"), h("p", { class: `risk-decision ${risk.decision}`, testid: "order-dialog-risk" },
      `${risk.decision}: ${risk.reason}`)] : null,
    error && !risk ? h("p", { class: "field-error", testid: "order-dialog-error" }, error.message) : null,
    intent?.expires_at ? h("p", { class: "muted small" }, `confirm before ${time(intent.expires_at)}`) : null,
    result,
    h("div", { class: "dialog-actions" }, close, confirm));
  if (!dialog.open) dialog.showModal();
  (current ? confirm : close).focus();
}

async function closeDialog(cancelIntent) {
  const pending = current;
  current = null;
  if (dialog.open) dialog.close();
  if (cancelIntent && pending) {
    try { await api(`/broker/orders/${encodeURIComponent(pending.intent.id)}/cancel-intent`, { method: "POST" }); }
    catch { /* already handled or expired: nothing to undo */ }
    announce("Cancelled: nothing was sent.");
  }
}
dialog.addEventListener("cancel", (event) => { event.preventDefault(); closeDialog(true); });

async function doConfirm(button, result) {
  if (!current) return;
  const { intent, token } = current;
  button.disabled = true;
  try {
    const done = await api(`/broker/orders/${encodeURIComponent(intent.id)}/confirm`, { method: "POST", body: { token } });
    current = null;
    const status = done?.intent?.status || done?.outcome;
    announce(status === "UNKNOWN"
      ? "The broker did not answer; the order is being looked up, never resent. Check the orders table."
      : `Order ${String(status || "sent").toLowerCase()}${done?.intent?.broker_order_id ? ` (#${done.intent.broker_order_id})` : ""}.`);
    dialog.close();
  } catch (error) {
    result.hidden = false;
    result.textContent = error.message;
    current = null;
  }
}

/** Propose through `request()` (a POST/PUT/DELETE returning a proposal) and show it. */
export async function propose(title, request) {
  try {
    openProposal(title, await request());
  } catch (error) {
    openProposal(title, null, { error });
  }
}

/** An intent drafted elsewhere (coach, picks): fetch it and show it. */
export async function openIntent({ intent_id: intentId, token }, title = "Confirm order") {
  try {
    const intent = await api(`/broker/orders/intents/${encodeURIComponent(intentId)}`);
    openProposal(title, { intent, token, preview: intent.preview, risk: intent.risk, mode: intent.mode });
  } catch (error) {
    openProposal(title, null, { error });
  }
}

/**
 * Execute one click by reference (POST /actions) and show what it did. Returns the outcome's sentence for the
 * caller's status line (the dialog opens by itself for a proposal); a plan outcome returns {plan}.
 */
export async function runAction(body, title) {
  let outcome;
  try {
    outcome = await api("/actions", { method: "POST", body });
  } catch (error) {
    if (error.details?.risk) openProposal(title, null, { error });
    return { message: error.message, error };
  }
  if (outcome.proposal) {
    openProposal(title, outcome.proposal, { bracket: outcome.bracket, effect: outcome.effect, message: outcome.message });
  }
  return { message: outcome.message, outcome };
}

window.openOrderConfirm = (intent) => openIntent(intent);
