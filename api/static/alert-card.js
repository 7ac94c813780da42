// One fired alert as a card: level, message, time, "late" mark, the rationale when there is one, the note, and
// its next-best-action chips. A chip runs by reference through POST /actions {"target": "alert", "id":
// trigger_id, "action": chip.id}: a proposal opens the confirm dialog, a snooze/dismiss says so on the card,
// a chip that could not be sized opens the planner with its plan. Used by the live feed and the history.

import { emit, h, setChildren } from "/static/app.js";
import { runAction } from "/static/confirm.js";
import { dateTime, price } from "/static/format.js";

export function rationaleLine(meta) {
  return h("p", { class: "alert-rationale muted small", testid: "alert-rationale" }, `Why: ${String(meta.rationale)}`);
}

function chipButton(chip, meta, status, card) {
  const label = chip.needs ? `${chip.label} (needs ${chip.needs})` : String(chip.label ?? chip.id);
  const button = h("button", { type: "button", class: `btn small chip chip-${chip.kind}`, testid: `alert-chip-${chip.id}` },
    label);
  button.addEventListener("click", async () => {
    if (!meta.trigger_id) {
      status.textContent = "This alert has no stored trigger to act on.";
      return;
    }
    button.disabled = true;
    const { message, outcome } = await runAction({ target: "alert", id: String(meta.trigger_id), action: chip.id },
      `${label}: ${meta.symbol ?? ""}`.trim());
    button.disabled = false;
    status.textContent = message;
    if (outcome?.kind === "dismissed") card.dataset.state = "dismissed";
    if (outcome?.kind === "snoozed") card.dataset.state = "snoozed";
    if (outcome?.kind === "plan" && outcome.plan) emit({ type: "ui:plan-draft", plan: outcome.plan, source: "alert" });
  });
  return button;
}

/** The card of an `alert` event body (live or from the trigger history). */
export function alertCard(event, testid = "alert-card") {
  const meta = event.meta || {};
  const status = h("p", { class: "muted small alert-chip-status", testid: "alert-chip-status", role: "status" });
  const card = h("li", { class: `alert-card level-${event.level}`, testid,
    dataset: { alertId: String(meta.alert_id ?? ""), triggerId: String(meta.trigger_id ?? ""),
      kind: String(meta.kind ?? "") } });
  const chips = h("div", { class: "chips" }, (meta.actions || []).map((chip) => chipButton(chip, meta, status, card)));
  setChildren(card,
    h("div", { class: "alert-head" },
      h("span", { class: `tag level level-${event.level}` }, String(event.level ?? "info")),
      h("strong", { class: "alert-msg", testid: "alert-msg" }, String(event.msg ?? "")),
      event.ts ? h("time", { class: "muted small", datetime: String(event.ts) }, dateTime(event.ts)) : null,
      meta.late ? h("span", { class: "tag warn", title: "delivered after the market moved on" }, "late") : null),
    meta.price !== undefined && meta.price !== null
      ? h("p", { class: "small mono alert-price" }, `${meta.symbol ?? ""} at ${price(meta.price)}`.trim()) : null,
    meta.rationale ? rationaleLine(meta) : null,
    meta.note ? h("p", { class: "muted small" }, String(meta.note)) : null,
    chips.children.length ? chips : null,
    status);
  return card;
}
