// Risk banner: the latest `risk` event as a coloured banner (ACTIVE / REDUCE_ONLY / HALTED / unknown), the
// reasons, and one bar per limit with its usage text ("2/10 trades", "$140.00 of $500.00 daily loss").
//
// First paint: GET /stream/risk. Then every `risk` event (the risk engine, every RISK_EVAL_SEC) replaces it.
// `unknown` states (no broker, broker error) show the reason and how to fix it. Text only, never HTML.

import { api, formatTime, registerPanel } from "/static/app.js";

const STYLE_HREF = "/static/panels/risk.css";
const LABELS = {
  ACTIVE: "Trading active",
  REDUCE_ONLY: "Reduce-only",
  HALTED: "Trading halted",
  unknown: "Risk state unknown",
};
const USAGE_NAMES = {
  daily_loss: "Daily loss",
  trades: "Trades today",
  open_positions: "Open positions",
  consecutive_losses: "Losses in a row",
  largest_position_pct: "Largest position",
};

if (!document.querySelector(`link[href="${STYLE_HREF}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = STYLE_HREF;
  document.head.append(link);
}

/** The usage list of a state: `[{name, used, limit, text}]` (an unknown state carries `{}`). */
function usageItems(state) {
  return Array.isArray(state?.usage) ? state.usage : [];
}

function ratio(item) {
  const used = Number(item.used);
  const limit = Number(item.limit);
  if (!Number.isFinite(used) || !Number.isFinite(limit) || limit <= 0) return 1;
  return Math.max(0, used / limit);
}

registerPanel({
  id: "risk-banner",
  title: "Risk limits",
  column: "main",
  order: 1,
  mount(body, { on, h, setChildren }) {
    const status = h("strong", { class: "risk-banner-status", testid: "risk-banner-status" }, "waiting for risk…");
    const when = h("span", { class: "muted small", testid: "risk-banner-time" });
    const pnl = h("span", { class: "risk-banner-pnl mono", testid: "risk-banner-pnl" });
    const reasons = h("ul", { class: "risk-banner-reasons", testid: "risk-banner-reasons", "aria-label": "Why" });
    const how = h("p", { class: "how", testid: "risk-banner-how", hidden: true });
    const usage = h("ul", { class: "risk-usage", testid: "risk-banner-usage", "aria-label": "Limit usage" });
    const warnings = h("ul", { class: "risk-banner-warnings muted small", testid: "risk-banner-warnings" });
    const banner = h("div", { class: "risk-banner", testid: "risk-banner", role: "status", "aria-live": "polite",
      dataset: { state: "none" } },
    h("div", { class: "risk-banner-head" }, status, pnl, when), reasons, how);
    setChildren(body, banner, usage, warnings);

    function render(state, ts) {
      const name = String(state?.status ?? state?.state ?? "unknown");
      banner.dataset.state = name;
      status.textContent = LABELS[name] || name;
      when.textContent = ts ? `as of ${formatTime(ts)}` : state?.evaluated_at ? `as of ${formatTime(state.evaluated_at)}` : "";
      pnl.textContent = state?.day_pnl !== undefined ? `day P&L ${state.day_pnl} · equity ${state.equity}` : "";
      setChildren(reasons, (state?.reasons || []).map((reason) => h("li", {}, String(reason))));
      how.hidden = !state?.how_to_enable;
      setChildren(how, state?.how_to_enable ? ["How to fix: ", String(state.how_to_enable)] : []);
      setChildren(usage, usageItems(state).map((item) => {
        const share = ratio(item);
        const level = share >= 1 ? "over" : share >= 0.8 ? "near" : "ok";
        const fill = h("span", { class: "risk-usage-fill" });
        fill.style.width = `${Math.min(100, Math.round(share * 100))}%`;  // CSSOM: allowed by the CSP
        return h("li", { class: "risk-usage-row", testid: `risk-usage-${item.name}`, dataset: { level } },
          h("span", { class: "risk-usage-name" }, USAGE_NAMES[item.name] || String(item.name)),
          h("span", { class: "risk-usage-bar", "aria-hidden": "true" }, fill),
          h("span", { class: "risk-usage-text mono" }, String(item.text)));
      }));
      setChildren(warnings, (state?.warnings || []).map((warning) => h("li", {}, String(warning))));
    }

    on("risk", (event) => render(event.state || {}, event.ts));
    on("ui:session", async () => {
      try {
        const snapshot = await api("/stream/risk");
        if (banner.dataset.state === "none") render(snapshot.state, null);
      } catch (error) {
        if (banner.dataset.state === "none") render({ state: "unknown", reasons: [error.message] }, null);
      }
    });
  },
});
