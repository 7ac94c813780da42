// Plan calculator: results as you type. Each edit (debounced) calls POST /plan/validate and, when entry and stop
// are set, POST /sizing/suggest; field errors appear under their input, warnings and the numbers below:
// risk per share, R multiple per target, the 1R/2R/3R bands, size, `limited_by` and both summaries.
// Equity left empty means "use the broker's" (the server says when it cannot). An invalid plan shows only its
// errors (never a size: sizing alone would infer a side from entry and stop). A valid plan is drawn on the chart
// ("ui:plan") and offers the next step: set an alert at the entry, draft the bracket (POST /actions
// {"target": "plan", ..., "action": "take"}, confirmed in the dialog) or save it to the journal.
// Text only, never HTML.

import { api, emit, fieldErrors, registerPanel, useStyle } from "/static/app.js";
import { runAction } from "/static/confirm.js";
import { money, pct, price, qty } from "/static/format.js";
import { navigate } from "/static/router.js";

const DEBOUNCE_MS = 200;
const LIMITED_BY = {
  risk_budget: "the risk budget",
  buying_power: "buying power",
  max_position_pct: "the max position % of equity",
  max_order_notional: "the max order notional",
};

useStyle("/static/panels/plan.css");

registerPanel({
  id: "plan",
  title: "Plan calculator",
  page: "chart",
  order: 2,
  wide: true,
  mount(body, { h, setChildren, on }) {
    const inputs = {};
    const errors = {};
    const field = (name, label, control, hint) => {
      control.id = `plan-${name}`;
      control.name = name;
      control.dataset.testid = `plan-${name}`;
      control.setAttribute("aria-describedby", `plan-error-${name}`);
      inputs[name] = control;
      errors[name] = h("span", { class: "field-error", id: `plan-error-${name}`, testid: `plan-error-${name}`,
        role: "alert", hidden: true });
      return h("div", { class: `field plan-field-${name}` }, h("label", { for: control.id }, label), control,
        hint ? h("span", { class: "muted small" }, hint) : null, errors[name]);
    };
    const number = (placeholder) => h("input", { type: "text", inputmode: "decimal", autocomplete: "off",
      spellcheck: "false", placeholder });
    const select = (options) => h("select", {}, options.map((value) => h("option", { value }, value)));

    const form = h("form", { class: "plan-form", testid: "plan-form", novalidate: true, "aria-label": "Plan" },
      h("div", { class: "form-row" },
        field("symbol", "Plan symbol", h("input", { type: "text", autocomplete: "off", spellcheck: "false",
          placeholder: "AAPL", maxlength: "32" })),
        field("side", "Side", select(["long", "short"])),
        field("instrument", "Instrument", select(["stock", "option"])),
        field("entry", "Entry price", number("190.50")),
        field("stop", "Stop price", number("189.80"))),
      h("div", { class: "form-row" },
        field("target0", "Target 1", number("192.00")),
        field("target1", "Target 2", number("")),
        field("target2", "Target 3", number("")),
        field("confidence", "Confidence", number("0-1")),
        field("equity", "Equity", number("from broker")),
        field("risk_pct", "Risk %", number("settings"))));

    const status = h("p", { class: "muted small", testid: "plan-status", "aria-live": "polite" },
      "Enter entry and stop to see the numbers.");
    const formError = h("p", { class: "field-error", testid: "plan-form-error", role: "alert", hidden: true });
    const numbers = h("dl", { class: "plan-numbers", testid: "plan-numbers" });
    const bands = h("ol", { class: "plan-bands", testid: "plan-bands", "aria-label": "R bands" });
    const warnings = h("ul", { class: "plan-warnings", testid: "plan-warnings", "aria-label": "Warnings" });
    const summary = h("p", { class: "plan-summary", testid: "plan-summary" });
    const size = h("div", { class: "plan-size", testid: "plan-size" });
    const sizeSummary = h("p", { class: "plan-summary", testid: "plan-size-summary" });
    const next = h("div", { class: "next-actions", testid: "plan-next", role: "group", "aria-label": "Next step",
      hidden: true });
    const nextStatus = h("p", { class: "small", testid: "plan-next-status", role: "status" });
    setChildren(body, form, status, formError, h("div", { class: "plan-results" },
      h("div", {}, numbers, bands), h("div", {}, size)), warnings, summary, sizeSummary, next, nextStatus);
    let valid = null;  // the last valid plan body

    function nextActions(plan) {
      const button = (label, testid, handler, primary = false) => h("button", { type: "button",
        class: `btn${primary ? " primary" : ""}`, testid, onclick: handler }, label);
      setChildren(next,
        button("Set alert at entry", "plan-set-alert", () => {
          navigate("alerts");
          emit({ type: "ui:alert-draft", draft: { symbol: plan.symbol || "", level: plan.entry,
            condition: plan.side === "long" ? "price_above" : "price_below",
            note: `plan: ${plan.side} ${plan.entry}, stop ${plan.stop}` } });
        }),
        button("Draft bracket order", "plan-take", async () => {
          if (!plan.symbol) { nextStatus.textContent = "Enter the symbol to draft an order."; return; }
          const { message } = await runAction({ target: "plan", plan: { symbol: plan.symbol, side: plan.side,
            entry: plan.entry, stop: plan.stop, targets: plan.targets }, action: "take" },
          `Take ${plan.side} ${plan.symbol}`);
          nextStatus.textContent = message;
        }, true),
        button("Save to journal", "plan-journal", async () => {
          try {
            await api("/journal", { method: "POST", body: { kind: "plan", symbol: plan.symbol || undefined,
              body: summary.textContent || `${plan.side} ${plan.symbol} entry ${plan.entry} stop ${plan.stop}`,
              tags: ["plan"] } });
            nextStatus.textContent = "Saved to the journal.";
          } catch (error) {
            nextStatus.textContent = `Could not save: ${error.message}`;
          }
        }));
      next.hidden = false;
    }

    /** Prefill from a chip that could not be sized, or from the chart's symbol. */
    on("ui:plan-draft", ({ plan }) => {
      if (!plan) return;
      navigate("chart", plan.symbol || "");
      inputs.symbol.value = plan.symbol || "";
      inputs.side.value = plan.side || "long";
      inputs.entry.value = plan.entry ?? "";
      inputs.stop.value = plan.stop ?? "";
      (plan.targets || []).slice(0, 3).forEach((t, i) => { inputs[`target${i}`].value = String(t); });
      run();
    }, { replay: false });
    on("ui:route", ({ page, params }) => {
      if (page === "chart" && params[0] && !inputs.symbol.value) inputs.symbol.value = params[0].toUpperCase();
    });

    let timer = null;
    let generation = 0;

    const value = (name) => inputs[name].value.trim();
    const optional = (name) => (value(name) === "" ? undefined : value(name));

    function clearErrors() {
      for (const name of Object.keys(errors)) {
        errors[name].hidden = true;
        errors[name].textContent = "";
        inputs[name].removeAttribute("aria-invalid");
      }
      formError.hidden = true;
      formError.textContent = "";
    }

    const FIELD_MAP = { targets: "target0", risk_per_trade_pct: "risk_pct", buying_power: "equity" };

    function showErrors(error) {
      const byField = fieldErrors(error);
      for (const detail of Array.isArray(error.details) ? error.details : []) {
        const match = /^targets\[(\d)\]$/.exec(String(detail?.field || ""));
        if (match) byField[`target${match[1]}`] = String(detail.message);
      }
      let unplaced = false;
      for (const [name, message] of Object.entries(byField)) {
        const target = inputs[name] ? name : FIELD_MAP[name];
        if (!target || !inputs[target]) { unplaced = true; continue; }
        errors[target].textContent = errors[target].textContent ? `${errors[target].textContent}; ${message}` : message;
        errors[target].hidden = false;
        inputs[target].setAttribute("aria-invalid", "true");
      }
      if (unplaced || Object.keys(byField).length === 0) {
        formError.textContent = error.message;
        formError.hidden = false;
      }
    }

    function row(term, text, testid) {
      return [h("dt", {}, term), h("dd", { class: "mono", testid }, text ?? "—")];
    }

    function renderPlan(plan) {
      setChildren(numbers,
        row("Risk / share", money(plan.risk_per_share), "plan-risk-per-share"),
        plan.plan.instrument === "option" ? row("Risk / contract", money(plan.risk_per_unit), "plan-risk-per-unit") : null,
        row("Stop distance", pct(plan.risk_pct, { dp: 2 }), "plan-risk-pct"),
        plan.targets.map((t, i) => row(`Target ${i + 1}`, `${price(t.price)} = ${t.r}R`, `plan-target-${i}`)),
        row("Reward:risk", plan.reward_risk === null ? "no target" : `${plan.reward_risk} (default ${plan.default_rr})`,
          "plan-rr"));
      setChildren(bands, plan.r_bands.map((band) => h("li", { testid: `plan-band-${band.r}` }, `${band.r}R ${price(band.price)}`)));
      setChildren(warnings, [...plan.warnings.map((w) => h("li", { class: "warn", dataset: { code: w.code } }, w.message)),
        ...plan.notes.map((note) => h("li", { class: "muted" }, note))]);
      summary.textContent = plan.summary;
    }

    function renderSize(result) {
      if (!result) {
        setChildren(size);
        sizeSummary.textContent = "";
        return;
      }
      const source = result.account?.source === "broker" ? " (equity from the broker)" : "";
      setChildren(size,
        h("div", { class: "plan-size-qty", testid: "plan-size-qty" }, `${qty(result.quantity)} ${result.unit}`),
        h("dl", { class: "plan-numbers" },
          row("Risk", `${money(result.risk_amount)} of ${money(result.risk_budget)} budget`, "plan-size-risk"),
          row("Notional", `${money(result.notional)} (${pct(result.pct_of_equity)} of equity)`, "plan-size-notional"),
          row("Limited by", LIMITED_BY[result.limited_by] || result.limited_by, "plan-size-limited-by"),
          row("Equity", `${money(result.equity)}${source}`, "plan-size-equity")));
      sizeSummary.textContent = result.summary;
    }

    async function run() {
      const mine = ++generation;
      clearErrors();
      if (!value("entry") || !value("stop")) {
        status.textContent = "Enter entry and stop to see the numbers.";
        setChildren(numbers); setChildren(bands); setChildren(warnings);
        summary.textContent = "";
        renderSize(null);
        next.hidden = true;
        emit({ type: "ui:plan", plan: null });
        return;
      }
      const targets = ["target0", "target1", "target2"].map(value).filter(Boolean);
      const planBody = { side: inputs.side.value, instrument: inputs.instrument.value, entry: value("entry"),
        stop: value("stop"), targets, symbol: optional("symbol") };
      const sizeBody = { entry: value("entry"), stop: value("stop"), instrument: inputs.instrument.value,
        symbol: optional("symbol"), confidence: optional("confidence"), equity: optional("equity"),
        risk_per_trade_pct: optional("risk_pct") };
      status.textContent = "checking…";
      const [plan, sized] = await Promise.allSettled([
        api("/plan/validate", { method: "POST", body: planBody }),
        api("/sizing/suggest", { method: "POST", body: sizeBody }),
      ]);
      if (mine !== generation) return;  // a newer edit is in flight: drop this answer
      if (plan.status === "fulfilled") {
        renderPlan(plan.value);
        valid = { ...planBody, targets };
        nextActions(valid);
      } else {
        showErrors(plan.reason);
        setChildren(numbers); setChildren(bands); setChildren(warnings);
        summary.textContent = "";
        valid = null;
        next.hidden = true;
      }
      // An invalid plan shows only its errors: a size alone would read as advice for the other side.
      if (plan.status === "fulfilled" && sized.status === "fulfilled") {
        renderSize(sized.value);
      } else {
        renderSize(null);
        if (plan.status === "fulfilled") showErrors(sized.reason);
      }
      emit({ type: "ui:plan", plan: valid });
      const ok = plan.status === "fulfilled" && sized.status === "fulfilled";
      status.textContent = ok ? "" : plan.status === "fulfilled" ? "the plan is valid; sizing needs the fields marked"
        : "fix the highlighted fields";
      body.closest(".panel")?.setAttribute("data-valid", String(plan.status === "fulfilled"));
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(run, DEBOUNCE_MS);
    }
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    form.addEventListener("submit", (event) => { event.preventDefault(); clearTimeout(timer); run(); });
  },
});
