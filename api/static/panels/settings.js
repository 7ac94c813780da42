// Settings: the tunables of GET /settings as forms, one per section, each saved on its own with PUT /settings
// (partial update; a 422 names the field, shown under it): risk limits, default R:R, alert routing (which alert
// types each channel receives), watchlist and the picks universe, news feeds. Read-only: the integrations with
// their state and how to enable each (server settings, never editable here) and the trading mode (PAPER/LIVE is
// chosen on the server; the browser can never switch to live). Text only, never HTML.

import { api, emit, fieldErrors, integrations, registerPanel, scrollBox, useStyle } from "/static/app.js";
import { words } from "/static/format.js";

useStyle("/static/panels/settings.css");

const RISK_LABELS = {
  max_daily_loss_usd: "Max daily loss ($)", max_daily_loss_pct: "Max daily loss (% of equity)",
  max_open_positions: "Max open positions", max_position_pct: "Max position (% of equity)",
  max_trades_per_day: "Max trades per day", max_order_notional: "Max order notional ($)",
  max_consecutive_losses: "Max losses in a row", cooldown_minutes: "Cooldown after the loss streak (min)",
  risk_per_trade_pct: "Risk per trade (% of equity)",
};
const UNIVERSE_LABELS = {
  min_price: "Min price ($)", min_avg_dollar_volume: "Min average dollar volume ($)",
  min_relative_volume: "Min relative volume", max_symbols: "Max symbols scanned", include_movers: "Include the day's movers",
};

registerPanel({
  id: "settings",
  title: "Trading settings",
  page: "settings",
  order: 1,
  wide: true,
  mount(body, { on, h, setChildren }) {
    const status = h("p", { class: "small", testid: "settings-status", role: "status", "aria-live": "polite" });
    const sections = h("div", { class: "settings-sections" });
    setChildren(body, status, sections);
    let current = {};

    /** A form of one section: `fields` [{key, label, value, kind}] -> PUT {section: values} (or top-level keys). */
    function sectionForm(id, title, fields, toPatch, note) {
      const errors = {};
      const controls = {};
      const result = h("p", { class: "small", testid: `settings-${id}-result`, role: "status" });
      const form = h("form", { class: "settings-form", testid: `settings-${id}`, novalidate: true, "aria-labelledby": `settings-${id}-title` },
        h("h3", { id: `settings-${id}-title` }, title),
        note ? h("p", { class: "muted small" }, note) : null,
        h("div", { class: "form-grid" }, fields.map((field) => {
          const inputId = `settings-${id}-${field.key}`;
          let control;
          if (field.kind === "bool") {
            control = h("input", { type: "checkbox", id: inputId, checked: Boolean(field.value) });
          } else if (field.kind === "lines") {
            control = h("textarea", { id: inputId, rows: "3" });
            control.value = field.value;
          } else {
            control = h("input", { id: inputId, inputmode: field.kind === "text" ? "text" : "decimal", autocomplete: "off" });
            control.value = field.value ?? "";
          }
          control.dataset.testid = inputId;
          control.setAttribute("aria-describedby", `${inputId}-error`);
          controls[field.key] = control;
          errors[field.key] = h("span", { class: "field-error small", id: `${inputId}-error` });
          return h("div", { class: `field${field.kind === "bool" ? " check" : ""}` },
            h("label", { for: inputId }, field.label), control, errors[field.key]);
        })),
        h("div", { class: "form-row end" }, result, h("button", { type: "submit", class: "btn primary",
          testid: `settings-${id}-save` }, "Save")));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        for (const [key, span] of Object.entries(errors)) { span.textContent = ""; controls[key].removeAttribute("aria-invalid"); }
        const values = Object.fromEntries(Object.entries(controls).map(([key, control]) =>
          [key, control.type === "checkbox" ? control.checked : control.value.trim()]));
        let patch;
        try {
          patch = toPatch(values);
        } catch (error) {
          result.textContent = error.message;
          return;
        }
        try {
          current = await api("/settings", { method: "PUT", body: patch });
          result.textContent = "Saved.";
          emit({ type: "ui:settings", settings: current });
        } catch (error) {
          const byField = fieldErrors(error);
          const details = Array.isArray(error.details) ? error.details : [];
          for (const detail of details) {
            const key = String(detail?.field || "").split(".").pop();
            if (errors[key]) {
              errors[key].textContent = String(detail.message).replace(/^Value error, /, "");
              controls[key].setAttribute("aria-invalid", "true");
            }
          }
          result.textContent = byField.watchlist || error.message;
        }
      });
      return form;
    }

    function render() {
      const risk = current.risk || {};
      const universe = current.picks_universe || {};
      const forms = [
        sectionForm("risk", "Risk limits",
          Object.keys(risk).map((key) => ({ key, label: RISK_LABELS[key] || words(key), value: risk[key] })),
          (values) => ({ risk: values }),
          "The risk engine checks every order against these; a breach halts new risk."),
        sectionForm("rr", "Default reward:risk",
          [{ key: "default_rr", label: "Default R:R for plans", value: current.default_rr }],
          (values) => ({ default_rr: values.default_rr })),
        routingForm(),
        sectionForm("watchlist", "Watchlist",
          [{ key: "watchlist", label: "Symbols (comma separated)", value: (current.watchlist || []).join(", "), kind: "text" }],
          (values) => ({ watchlist: values.watchlist.split(/[\s,]+/).filter(Boolean).map((s) => s.toUpperCase()) })),
        sectionForm("universe", "Picks universe",
          Object.keys(universe).map((key) => ({ key, label: UNIVERSE_LABELS[key] || words(key), value: universe[key],
            kind: typeof universe[key] === "boolean" ? "bool" : "number" })),
          (values) => ({ picks_universe: values }),
          "What the picks scanner looks at besides the watchlist."),
        sectionForm("news", "News feeds",
          [{ key: "news_feeds", label: "One feed a line: label, URL", kind: "lines",
            value: (current.news_feeds || []).map((f) => `${f.label}, ${f.url}`).join("\n") },
          { key: "news_breaking_minutes", label: "Breaking news window (min)", value: current.news_breaking_minutes }],
          (values) => ({
            news_feeds: values.news_feeds.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
              const cut = line.lastIndexOf(",");
              if (cut < 1) throw new Error(`"${line}": write the label, a comma, then the URL`);
              return { label: line.slice(0, cut).trim(), url: line.slice(cut + 1).trim() };
            }),
            news_breaking_minutes: values.news_breaking_minutes,
          })),
      ];
      setChildren(sections, forms);
    }

    /** Alert routing: one checkbox per channel and alert type. */
    function routingForm() {
      const routing = current.alert_types || {};
      const channels = [...new Set([...(current.alert_routing_options?.channels || []), ...Object.keys(routing)])];
      const options = current.alert_routing_options || {};
      const types = [...new Set([...(options.types || []), ...Object.values(routing).flat()])];
      const boxes = {};
      const result = h("p", { class: "small", testid: "settings-routing-result", role: "status" });
      const table = scrollBox("Alert routing", h("table", { class: "grid routing" },
        h("caption", { class: "sr-only" }, "Alert types each channel receives"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Channel"), types.map((t) => h("th", { scope: "col" }, words(t))))),
        h("tbody", {}, channels.map((channel) => h("tr", {}, h("th", { scope: "row" }, words(channel)),
          types.map((type) => {
            const limit = options.only?.[type];
            if (limit && !limit.channels.includes(channel)) {
              return h("td", { class: "muted", title: limit.note, testid: `routing-${channel}-${type}-fixed` },
                h("span", { "aria-hidden": "true" }, "—"), h("span", { class: "sr-only" }, limit.note));
            }
            const box = h("input", { type: "checkbox", checked: (routing[channel] || []).includes(type),
              testid: `routing-${channel}-${type}`, "aria-label": `${words(type)} alerts to ${words(channel)}` });
            boxes[`${channel}:${type}`] = box;
            return h("td", {}, box);
          }))))));
      const form = h("form", { class: "settings-form", testid: "settings-routing", novalidate: true,
        "aria-labelledby": "settings-routing-title" },
      h("h3", { id: "settings-routing-title" }, "Alert routing"),
      h("p", { class: "muted small" }, "Which alert types reach each channel (the channel itself is set up on the server)."),
      table, h("div", { class: "form-row end" }, result, h("button", { type: "submit", class: "btn primary",
        testid: "settings-routing-save" }, "Save")));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const patch = Object.fromEntries(channels.map((channel) => [channel,
          types.filter((type) => boxes[`${channel}:${type}`]?.checked)]));
        try {
          current = await api("/settings", { method: "PUT", body: { alert_types: patch } });
          result.textContent = "Saved.";
        } catch (error) {
          result.textContent = error.message;
        }
      });
      return form;
    }

    async function load() {
      try {
        current = await api("/settings");
        status.textContent = "";
        render();
        emit({ type: "ui:settings", settings: current });
      } catch (error) {
        status.textContent = `Settings could not be loaded: ${error.message}`;
      }
    }
    on("ui:session", load);
  },
});

/** Integrations (state, reason, how to enable) and the trading mode: read-only server settings. */
export function integrationList(h, byName, prefix = "integration") {
  const items = Object.entries(byName || {}).map(([key, item]) => {
    const name = String(item?.name ?? key);
    const enabled = Boolean(item?.enabled);
    return h("li", { class: `integration ${enabled ? "on" : "off"}`, testid: `${prefix}-${name}`,
      dataset: { enabled: String(enabled) } },
    h("div", { class: "integration-head" },
      h("span", { class: "integration-name" }, words(name)),
      h("span", { class: `tag ${enabled ? "ok" : "off"}` }, enabled ? "enabled" : "disabled")),
    item?.reason ? h("div", { class: "reason" }, String(item.reason)) : null,
    !enabled && item?.how_to_enable ? h("div", { class: "how" }, `How to enable: ${item.how_to_enable}`) : null);
  });
  return h("ul", { class: "integrations", testid: `${prefix}s`, "aria-label": "Integrations" },
    items.length ? items : h("li", { class: "muted" }, "waiting for status…"));
}

registerPanel({
  id: "integrations",
  title: "Integrations & trading mode",
  page: "settings",
  order: 2,
  wide: true,
  mount(body, { on, h, setChildren }) {
    const modeLine = h("p", { class: "trading-mode", testid: "settings-mode" }, "Trading mode: waiting for the server…");
    const list = h("div", {});
    setChildren(body, modeLine, list);
    let shown = "";
    const render = () => {
      const reported = integrations();
      const signature = JSON.stringify(reported);
      if (signature === shown) return;  // status repeats every heartbeat; re-render only on change
      shown = signature;
      setChildren(list, integrationList(h, reported));
    };
    on("ui:settings", ({ settings }) => {
      const trading = settings?.trading_mode;
      if (!trading) return;
      const mode = String(trading.mode);
      setChildren(modeLine, "Trading mode: ",
        h("strong", { class: "tag mode-badge", testid: "settings-mode-value", dataset: { mode } }, mode),
        trading.broker_configured ? "" : " (no broker connected yet)",
        ` — read-only here: ${trading.how_to_change || "it is chosen on the server"}.`);
    });
    on("ui:config", render);
    on("status", render);
  },
});
