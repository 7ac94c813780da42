// Alerts: the live feed on the dashboard (seeded from the trigger history, so a reload keeps the cards and their
// chips, then every `alert` event on /ws), and on the Alerts page the alert list (filter by status), the
// create/edit form with expiry, and the whole trigger history, older pages on demand.
//
// REST: GET /alerts/history?limit=&before=, GET/POST /alerts, PATCH/DELETE /alerts/{id}. Text only, never HTML.

import { api, fieldErrors, registerPanel, scrollBox, useStyle } from "/static/app.js";
import { alertCard, rationaleLine } from "/static/alert-card.js";
import { dateTime, pct, price, words } from "/static/format.js";

useStyle("/static/panels/alerts.css");

const STATUSES = ["", "active", "snoozed", "triggered", "expired", "dismissed"];
const FEED_MAX = 30;
const HISTORY_PAGE = 50;
const FIELDS = ["symbol", "condition", "level", "threshold_pct", "timeframe", "repeat", "cooldown_sec",
  "expires_at", "channels", "note"];
const LABELS = { symbol: "Symbol", condition: "Condition", level: "Level", threshold_pct: "Approach %",
  timeframe: "Timeframe", repeat: "Repeat", cooldown_sec: "Cooldown (s)", expires_at: "Expires",
  channels: "Channels", note: "Note" };

/** An ISO timestamp as the browser-local "YYYY-MM-DDTHH:MM" a datetime-local input shows. */
function localInput(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

/** Everything that changes alerts reloads the Alerts page list. */
const listeners = new Set();
function alertsChanged() {
  for (const fn of listeners) fn();
}

registerPanel({
  id: "alerts-feed",
  title: "Live alerts",
  page: "dashboard",
  order: 1,
  mount(body, { on, h, setChildren }) {
    const feed = h("ol", { class: "alerts-feed", testid: "alerts-feed", "aria-label": "Fired alerts" });
    const empty = h("p", { class: "muted small", testid: "alerts-feed-empty" }, "No alerts fired yet.");
    const note = h("p", { class: "muted small", testid: "alerts-feed-note", role: "status" });
    setChildren(body, empty, feed, note);
    const live = [];  // events that arrived before the history answered

    function show(event) {
      const meta = event.meta || {};
      if (meta.update === "rationale" && meta.trigger_id) {
        const card = [...feed.children].find((li) => li.dataset.triggerId === String(meta.trigger_id));
        if (card) {
          card.querySelector('[data-testid="alert-rationale"]')?.remove();
          card.querySelector(".alert-head").after(rationaleLine(meta));
          return;
        }
      }
      if (meta.trigger_id && [...feed.children].some((li) => li.dataset.triggerId === String(meta.trigger_id)
          && meta.update !== "rationale")) return;
      feed.prepend(alertCard(event));
      while (feed.children.length > FEED_MAX) feed.lastChild.remove();
      empty.hidden = true;
    }

    let seeded = false;
    on("alert", (event) => {
      if (seeded) show(event);
      else live.push(event);
      if (event.meta?.alert_id) alertsChanged();
    }, { replay: false });

    on("ui:session", async () => {
      seeded = false;
      try {
        const page = await api("/alerts/history", { query: { limit: FEED_MAX } });
        feed.replaceChildren();
        for (const event of [...(page.items || [])].reverse()) show(event);
        note.textContent = "";
      } catch (error) {
        note.textContent = `Earlier alerts could not be loaded: ${error.message}`;
      }
      seeded = true;
      for (const event of live.splice(0)) show(event);
      empty.hidden = feed.children.length > 0;
    });
  },
});

registerPanel({
  id: "alerts",
  title: "Alerts",
  page: "alerts",
  order: 1,
  mount(body, { on, h, setChildren, actions }) {
    // --- list
    const filter = h("select", { id: "alerts-filter", testid: "alerts-filter" },
      STATUSES.map((s) => h("option", { value: s }, s || "all")));
    const rows = h("tbody", { testid: "alerts-rows" });
    const list = scrollBox("Alerts", h("table", { class: "grid alerts-list", testid: "alerts-list" },
      h("caption", { class: "sr-only" }, "Alerts"),
      h("thead", {}, h("tr", {}, ["Symbol", "Condition", "Level", "TF", "Expires", "Status", "Actions"]
        .map((t) => h("th", { scope: "col" }, t)))), rows));
    const listStatus = h("p", { class: "muted small", testid: "alerts-list-status", role: "status" });
    filter.addEventListener("change", () => loadList());

    async function loadList() {
      try {
        const { items } = await api("/alerts", { query: filter.value ? { status: filter.value } : {} });
        listStatus.textContent = items.length ? "" : "No alerts.";
        setChildren(rows, items.map(listRow));
      } catch (error) {
        listStatus.textContent = `Could not load alerts: ${error.message}`;
      }
    }
    listeners.add(loadList);

    function listRow(alert) {
      const edit = h("button", { type: "button", class: "btn small", testid: "alert-edit",
        "aria-label": `Edit the ${alert.symbol} alert at ${price(alert.level)}` }, "Edit");
      edit.addEventListener("click", () => fillForm(alert));
      const del = h("button", { type: "button", class: "btn small ghost danger", testid: "alert-delete",
        "aria-label": `Delete the ${alert.symbol} alert at ${price(alert.level)}` }, "Delete");
      del.addEventListener("click", async () => {
        if (!confirm(`Delete the ${alert.symbol} alert at ${price(alert.level)}?`)) return;
        try { await api(`/alerts/${encodeURIComponent(alert.id)}`, { method: "DELETE" }); } catch (error) {
          listStatus.textContent = `Could not delete: ${error.message}`;
        }
        loadList();
      });
      const cond = alert.condition === "price_above" ? "above" : "below";
      const extra = alert.threshold_pct ? ` (approach ${pct(alert.threshold_pct)})` : "";
      return h("tr", { testid: "alert-row", dataset: { alertId: alert.id, status: alert.status } },
        h("th", { scope: "row" }, alert.symbol), h("td", {}, `${cond}${extra}`), h("td", { class: "num" }, price(alert.level)),
        h("td", {}, alert.timeframe), h("td", {}, alert.expires_at ? dateTime(alert.expires_at) : "never"),
        h("td", {}, words(alert.status) + (alert.already_true ? " (already true)" : "")),
        h("td", { class: "actions" }, edit, del));
    }

    // --- create / edit form
    const inputs = {
      symbol: h("input", { placeholder: "SPY", autocomplete: "off", spellcheck: "false" }),
      condition: h("select", {}, h("option", { value: "price_above" }, "price above"),
        h("option", { value: "price_below" }, "price below")),
      level: h("input", { inputmode: "decimal", placeholder: "450.00" }),
      threshold_pct: h("input", { inputmode: "decimal", placeholder: "optional" }),
      timeframe: h("select", {}, ["tick", "minute", "day"].map((t) => h("option", { value: t }, t))),
      repeat: h("select", {}, ["once", "every"].map((t) => h("option", { value: t }, t))),
      cooldown_sec: h("input", { inputmode: "numeric", placeholder: "optional" }),
      expires_at: h("input", { type: "datetime-local" }),
      channels: h("input", { value: "ws", placeholder: "ws, discord_webhook" }),
      note: h("input", { placeholder: "optional" }),
    };
    const errors = {};
    const fields = FIELDS.map((f) => {
      const control = inputs[f];
      control.id = `alert-${f}`;
      control.name = f;
      control.dataset.testid = `alert-${f === "threshold_pct" ? "threshold" : f === "cooldown_sec" ? "cooldown"
        : f === "expires_at" ? "expires" : f}`;
      control.setAttribute("aria-describedby", `alert-error-${f}`);
      errors[f] = h("span", { class: "field-error small", id: `alert-error-${f}`, testid: `alert-error-${f}` });
      return h("div", { class: "field" }, h("label", { for: control.id }, LABELS[f]), control, errors[f]);
    });
    const formStatus = h("p", { class: "small", testid: "alert-form-status", role: "status" });
    const submit = h("button", { type: "submit", class: "btn primary", testid: "alert-submit" }, "Create alert");
    const cancel = h("button", { type: "button", class: "btn ghost", hidden: true }, "Cancel edit");
    const form = h("form", { class: "alert-form form-grid", testid: "alert-form", novalidate: true,
      "aria-label": "Create or edit an alert" }, fields, h("div", { class: "form-row end" }, formStatus, cancel, submit));
    let editing = null;

    function fillForm(alert) {
      editing = alert.id;
      for (const f of FIELDS) {
        const value = alert[f];
        if (f === "channels") inputs[f].value = (value || []).join(",");
        else if (f === "expires_at") inputs[f].value = value ? localInput(value) : "";
        else inputs[f].value = value ?? "";
      }
      submit.textContent = "Save alert";
      cancel.hidden = false;
      inputs.symbol.focus();
    }
    function resetForm() {
      editing = null;
      form.reset();
      inputs.channels.value = "ws";
      submit.textContent = "Create alert";
      cancel.hidden = true;
    }
    cancel.addEventListener("click", resetForm);

    /** Prefill from elsewhere (a plan's "Set alert"): symbol, condition, level. */
    on("ui:alert-draft", ({ draft }) => {
      resetForm();
      for (const [f, value] of Object.entries(draft || {})) if (inputs[f]) inputs[f].value = String(value);
      formStatus.textContent = "Prefilled from the plan: check it and create the alert.";
    }, { replay: false });

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      for (const f of FIELDS) { errors[f].textContent = ""; inputs[f].removeAttribute("aria-invalid"); }
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
        for (const [f, message] of Object.entries(byField)) {
          if (!errors[f]) continue;
          errors[f].textContent = message;
          inputs[f].setAttribute("aria-invalid", "true");
        }
        formStatus.textContent = error.message;
      }
    });

    const refresh = h("button", { type: "button", class: "btn small ghost", testid: "alerts-refresh" }, "Refresh");
    refresh.addEventListener("click", () => loadList());
    actions.append(refresh);
    setChildren(body, h("h3", {}, "New alert"), form,
      h("div", { class: "inline-field" }, h("label", { for: "alerts-filter" }, "Show"), filter), list, listStatus);
    on("ui:session", () => loadList());
  },
});

registerPanel({
  id: "alerts-history",
  title: "Trigger history",
  page: "alerts",
  order: 2,
  mount(body, { on, h, setChildren }) {
    const list = h("ol", { class: "alerts-feed", testid: "alerts-history", "aria-label": "Trigger history" });
    const status = h("p", { class: "muted small", testid: "alerts-history-status", role: "status" });
    const more = h("button", { type: "button", class: "btn", testid: "alerts-history-more", hidden: true }, "Older");
    setChildren(body, list, status, h("div", { class: "more" }, more));
    let before = null;

    async function load(reset) {
      try {
        const page = await api("/alerts/history", { query: { limit: HISTORY_PAGE, before: reset ? null : before } });
        if (reset) list.replaceChildren();
        for (const event of page.items || []) list.append(alertCard(event, "history-card"));
        before = page.next_before || null;
        more.hidden = !before;
        status.textContent = list.children.length ? "" : "No alert has fired yet.";
      } catch (error) {
        status.textContent = `The trigger history could not be loaded: ${error.message}`;
      }
    }
    more.addEventListener("click", () => load(false));
    on("alert", (event) => {
      if (event.meta?.update === "rationale") return;
      list.prepend(alertCard(event, "history-card"));
      status.textContent = "";
    }, { replay: false });
    on("ui:session", () => load(true));
  },
});
