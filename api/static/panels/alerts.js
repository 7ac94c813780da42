// Alerts panel: the alert list (filter by status), a create/edit form, and the live feed of `alert` events
// with their next-best-action chips.
//
// REST: GET/POST /alerts, PATCH/DELETE /alerts/{id}, POST /alerts/{id}/snooze {minutes} and /dismiss.
// Chips (alert.meta.actions): "snooze"/"dismiss" call the API; "order" shows the prefilled order and hands it to
// the order confirm flow when the page has one (window.openOrderDraft(order), else a proposal through
// POST /broker/orders then window.openOrderConfirm(intent)); it always dispatches a
// `tradeassist:order-draft` CustomEvent {order, source, alert_id}. Nothing is ever placed from here.
// "plan" chips show the plan. Everything shown is text (textContent / text nodes), never HTML.

import { api, fieldErrors, formatTime, registerPanel } from "/static/app.js";

const STATUSES = ["", "active", "snoozed", "triggered", "expired", "dismissed"];
const FEED_MAX = 30;
const FIELDS = ["symbol", "condition", "level", "threshold_pct", "timeframe", "repeat", "cooldown_sec",
  "expires_at", "channels", "note"];

function orderText(order) {
  if (!order) return "";
  const price = order.price ? ` @ ${order.price}` : order.stop ? ` stop ${order.stop}` : "";
  return `${order.side} ${order.quantity} ${order.symbol} ${order.type}${price} (${order.duration})`;
}

async function sendOrderToConfirm(order, alertId, status) {
  window.dispatchEvent(new CustomEvent("tradeassist:order-draft", { detail: { order, source: "alert", alert_id: alertId } }));
  if (typeof window.openOrderDraft === "function") {
    window.openOrderDraft(order);
    return;
  }
  if (typeof window.openOrderConfirm === "function") {
    try {
      const proposal = await api("/broker/orders", { method: "POST", body: order });
      const intent = proposal.intent || {};
      window.openOrderConfirm({ intent_id: intent.id ?? proposal.intent_id, token: intent.token ?? proposal.token,
        order: proposal });
    } catch (error) {
      status.textContent = `Could not propose the order: ${error.message}`;
    }
    return;
  }
  status.textContent = `Prefilled order: ${orderText(order)}. Confirm it from the orders panel or a bot; `
    + "nothing was placed.";
}

registerPanel({
  id: "alerts",
  title: "Alerts",
  column: "main",
  order: 10,
  mount(body, { on: listen, h, setChildren, actions }) {
    // --- live feed
    const feed = h("ol", { class: "alerts-feed", testid: "alerts-feed", "aria-live": "polite" });
    const feedEmpty = h("p", { class: "muted small", testid: "alerts-feed-empty" }, "No alerts fired yet.");

    function chipButton(chip, meta, status, row) {
      const label = chip.needs ? `${chip.label} (needs ${chip.needs})` : chip.label;
      const button = h("button", { type: "button", class: `btn small chip chip-${chip.kind}`,
        testid: `alert-chip-${chip.id}`, title: chip.order ? orderText(chip.order) : "" }, label);
      button.addEventListener("click", async () => {
        try {
          if (chip.kind === "snooze") {
            await api(`/alerts/${encodeURIComponent(meta.alert_id)}/snooze`, { method: "POST",
              body: { minutes: Math.round((chip.snooze_sec || 900) / 60) } });
            status.textContent = "Snoozed.";
            loadList();
          } else if (chip.kind === "dismiss") {
            if (meta.alert_id) {
              try {
                await api(`/alerts/${encodeURIComponent(meta.alert_id)}/dismiss`, { method: "POST" });
              } catch (error) {
                if (error.status !== 409) throw error;  // a finished alert: dismissing only hides the card
              }
            }
            row.remove();
            if (!feed.children.length) feed.replaceWith(feedEmpty) ;
            loadList();
          } else if (chip.kind === "order") {
            status.textContent = `Order: ${orderText(chip.order)}`;
            await sendOrderToConfirm(chip.order, meta.alert_id, status);
          } else if (chip.kind === "plan" && chip.plan) {
            const p = chip.plan;
            status.textContent = `Plan: ${p.side} ${p.symbol} entry ${p.entry} stop ${p.stop}`;
            window.dispatchEvent(new CustomEvent("tradeassist:plan-draft", { detail: { plan: p, source: "alert" } }));
          }
        } catch (error) {
          status.textContent = `Failed: ${error.message}`;
        }
      });
      return button;
    }

    // A rationale update (meta.update === "rationale") joins the card of its trigger when that card is shown.
    function attachRationale(meta) {
      const card = [...feed.children].find((li) => li.dataset.triggerId === String(meta.trigger_id));
      if (!card) return false;
      card.querySelector(".alert-head").after(rationaleLine(meta));
      return true;
    }

    function rationaleLine(meta) {
      return h("div", { class: "muted small", testid: "alert-rationale" }, `Why: ${String(meta.rationale)}`);
    }

    listen("alert", (event) => {
      const meta = event.meta || {};
      if (meta.update === "rationale" && meta.trigger_id && attachRationale(meta)) return;
      const status = h("div", { class: "muted small", testid: "alert-chip-status", role: "status" });
      const row = h("li", { class: `alert-card level-${event.level}`, testid: "alert-card",
        dataset: { alertId: String(meta.alert_id ?? ""), triggerId: String(meta.trigger_id ?? ""),
          kind: String(meta.kind ?? "") } });
      const when = event.ts ? formatTime(event.ts) : "";
      const chips = h("div", { class: "chips" });
      for (const chip of meta.actions || []) chips.append(chipButton(chip, meta, status, row));
      row.append(
        h("div", { class: "alert-head" },
          h("span", { class: "tag" }, String(event.level)), " ",
          h("strong", { testid: "alert-msg" }, String(event.msg)), " ",
          h("span", { class: "muted small" }, when),
          meta.late ? h("span", { class: "tag warn" }, " late") : null),
        meta.rationale ? rationaleLine(meta) : null,
        meta.note ? h("div", { class: "muted small" }, String(meta.note)) : null,
        chips, status);
      if (feedEmpty.isConnected) feedEmpty.replaceWith(feed);
      feed.prepend(row);
      while (feed.children.length > FEED_MAX) feed.lastChild.remove();
      if (meta.alert_id) loadList();
    }, { replay: false });

    // --- list
    const filter = h("select", { testid: "alerts-filter", "aria-label": "Filter by status" },
      ...STATUSES.map((s) => h("option", { value: s }, s || "all")));
    const list = h("table", { class: "alerts-list", testid: "alerts-list" });
    const listStatus = h("p", { class: "muted small", testid: "alerts-list-status" });
    filter.addEventListener("change", () => loadList());

    async function loadList() {
      try {
        const { items } = await api("/alerts", { query: filter.value ? { status: filter.value } : {} });
        listStatus.textContent = items.length ? "" : "No alerts.";
        setChildren(list, h("tr", {}, ...["Symbol", "Condition", "Level", "TF", "Status", ""].map((t) => h("th", {}, t))),
          ...items.map(listRow));
      } catch (error) {
        listStatus.textContent = `Could not load alerts: ${error.message}`;
      }
    }

    function listRow(alert) {
      const edit = h("button", { type: "button", class: "btn small", testid: "alert-edit" }, "Edit");
      edit.addEventListener("click", () => fillForm(alert));
      const del = h("button", { type: "button", class: "btn small ghost", testid: "alert-delete" }, "Delete");
      del.addEventListener("click", async () => {
        if (!confirm(`Delete the ${alert.symbol} alert at ${alert.level}?`)) return;
        try { await api(`/alerts/${encodeURIComponent(alert.id)}`, { method: "DELETE" }); } catch (error) {
          listStatus.textContent = `Could not delete: ${error.message}`;
        }
        loadList();
      });
      const cond = alert.condition === "price_above" ? "above" : "below";
      const extra = alert.threshold_pct ? ` (approach ${alert.threshold_pct}%)` : "";
      return h("tr", { testid: "alert-row", dataset: { alertId: alert.id, status: alert.status } },
        h("td", {}, alert.symbol), h("td", {}, `${cond}${extra}`), h("td", {}, alert.level),
        h("td", {}, alert.timeframe), h("td", {}, alert.status + (alert.already_true ? " (already true)" : "")),
        h("td", {}, edit, " ", del));
    }

    // --- create / edit form
    const inputs = {
      symbol: h("input", { name: "symbol", placeholder: "SPY", testid: "alert-symbol", autocomplete: "off" }),
      condition: h("select", { name: "condition", testid: "alert-condition" },
        h("option", { value: "price_above" }, "price above"), h("option", { value: "price_below" }, "price below")),
      level: h("input", { name: "level", inputmode: "decimal", placeholder: "level", testid: "alert-level" }),
      threshold_pct: h("input", { name: "threshold_pct", inputmode: "decimal", placeholder: "approach % (opt.)",
        testid: "alert-threshold" }),
      timeframe: h("select", { name: "timeframe", testid: "alert-timeframe" },
        ...["tick", "minute", "day"].map((t) => h("option", { value: t }, t))),
      repeat: h("select", { name: "repeat", testid: "alert-repeat" },
        ...["once", "every"].map((t) => h("option", { value: t }, t))),
      cooldown_sec: h("input", { name: "cooldown_sec", inputmode: "numeric", placeholder: "cooldown s",
        testid: "alert-cooldown" }),
      expires_at: h("input", { name: "expires_at", type: "datetime-local", testid: "alert-expires" }),
      channels: h("input", { name: "channels", value: "ws", placeholder: "ws,discord_webhook",
        testid: "alert-channels" }),
      note: h("input", { name: "note", placeholder: "note", testid: "alert-note" }),
    };
    const errors = Object.fromEntries(FIELDS.map((f) => [f, h("span", { class: "field-error small",
      testid: `alert-error-${f}` })]));
    const formStatus = h("p", { class: "muted small", testid: "alert-form-status", role: "status" });
    const submit = h("button", { type: "submit", class: "btn primary small", testid: "alert-submit" }, "Create alert");
    const cancel = h("button", { type: "button", class: "btn small ghost", hidden: true }, "Cancel edit");
    const form = h("form", { class: "alert-form", testid: "alert-form", novalidate: true },
      ...FIELDS.map((f) => h("label", { class: "small" }, f.replace("_", " "), inputs[f], errors[f])),
      submit, cancel, formStatus);
    let editing = null;

    function fillForm(alert) {
      editing = alert.id;
      for (const f of FIELDS) {
        const value = alert[f];
        if (f === "channels") inputs[f].value = (value || []).join(",");
        else if (f === "expires_at") inputs[f].value = value ? value.slice(0, 16) : "";
        else inputs[f].value = value ?? "";
      }
      submit.textContent = "Save alert";
      cancel.hidden = false;
    }
    function resetForm() {
      editing = null;
      form.reset();
      inputs.channels.value = "ws";
      submit.textContent = "Create alert";
      cancel.hidden = true;
    }
    cancel.addEventListener("click", resetForm);

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      for (const f of FIELDS) errors[f].textContent = "";
      const payload = {};
      for (const f of FIELDS) {
        const raw = inputs[f].value.trim();
        if (f === "channels") payload.channels = raw.split(",").map((c) => c.trim()).filter(Boolean);
        else if (f === "expires_at") { if (raw) payload.expires_at = new Date(raw).toISOString(); else if (editing) payload.expires_at = null; }
        else if (f === "cooldown_sec") { if (raw) payload.cooldown_sec = Number.isInteger(Number(raw)) ? Number(raw) : raw; }
        else if (raw) payload[f] = raw;
        else if (editing && (f === "threshold_pct" || f === "note")) payload[f] = null;
      }
      try {
        const result = editing
          ? await api(`/alerts/${encodeURIComponent(editing)}`, { method: "PATCH", body: payload })
          : await api("/alerts", { method: "POST", body: payload });
        const notes = [result.duplicate ? "An identical alert exists: showing it." : editing ? "Saved." : "Created.",
          result.already_true ? "The condition already holds: it fires on the next crossing." : "",
          ...(result.warnings || [])].filter(Boolean);
        formStatus.textContent = notes.join(" ");
        resetForm();
        loadList();
      } catch (error) {
        const byField = fieldErrors({ ...error, details: error.details?.errors ?? error.details });
        for (const [f, message] of Object.entries(byField)) if (errors[f]) errors[f].textContent = message;
        formStatus.textContent = error.message;
      }
    });

    const refresh = h("button", { type: "button", class: "btn small ghost", testid: "alerts-refresh" }, "Refresh");
    refresh.addEventListener("click", () => loadList());
    actions.append(refresh);
    setChildren(body, h("h3", { class: "small muted" }, "Live"), feedEmpty,
      h("h3", { class: "small muted" }, "Alerts "), filter, list, listStatus,
      h("h3", { class: "small muted" }, "New alert"), form);
    listen("ui:session", () => loadList());
    loadList();
  },
});
