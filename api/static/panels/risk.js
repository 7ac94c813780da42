// The risk banner, at the top of every page: the latest `risk` heartbeat as one coloured line (ACTIVE /
// REDUCE_ONLY / HALTED / unknown) with the reasons, how to fix an unknown state, one bar per limit usage
// ("2/10 trades", "$140.00 of $500.00 daily loss"), day P&L, and any KPI in breach from `health` events.
//
// First paint: GET /stream/risk; then every `risk` event replaces it. No heartbeat for 3x RISK_EVAL_SEC marks
// it stale. Text only, never HTML.

import { $, api, eventAge, h, on, setChildren, useStyle } from "/static/app.js";
import { age, money, time, words } from "/static/format.js";

useStyle("/static/panels/risk.css");

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
const DEFAULT_RISK_EVAL_SEC = 5;

/** Heartbeat interval: the server's RISK_EVAL_SEC when known, else what we measured, else 5 s. */
const heartbeat = { configured: null, measured: null, lastTs: null, count: 0 };

function intervalMs() {
  return (heartbeat.configured ?? heartbeat.measured ?? DEFAULT_RISK_EVAL_SEC) * 1000;
}

/** The usage list of a state: `[{name, used, limit, text}]` (empty when the state is unknown). */
function usageItems(state) {
  return Array.isArray(state?.usage) ? state.usage : [];
}

function ratio(item) {
  const used = Number(item.used);
  const limit = Number(item.limit);
  if (!Number.isFinite(used) || !Number.isFinite(limit) || limit <= 0) return 1;
  return Math.max(0, used / limit);
}

/** One row per limit: name, a bar, and the server's own sentence. */
function usageRow(item) {
  const share = ratio(item);
  const level = share >= 1 ? "over" : share >= 0.8 ? "near" : "ok";
  const fill = h("span", { class: "risk-usage-fill" });
  fill.style.width = `${Math.min(100, Math.round(share * 100))}%`;  // CSSOM: allowed by the CSP
  return h("li", { class: "risk-usage-row", testid: `risk-usage-${item.name}`, dataset: { level } },
    h("span", { class: "risk-usage-name" }, USAGE_NAMES[item.name] || words(item.name)),
    h("span", { class: "risk-usage-bar", role: "meter", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": String(Math.min(100, Math.round(share * 100))),
      "aria-label": `${USAGE_NAMES[item.name] || words(item.name)} used` }, fill),
    h("span", { class: "risk-usage-text mono" }, String(item.text ?? "")));
}

function mount() {
  const state = h("strong", { class: "risk-state", testid: "risk-state", dataset: { state: "none" } }, "waiting…");
  const label = h("span", { class: "risk-banner-status", testid: "risk-banner-status" }, "waiting for risk…");
  const last = h("span", { class: "muted small", testid: "risk-last" }, "no heartbeat yet");
  const stale = h("span", { class: "tag warn", testid: "risk-stale-inline", hidden: true }, "stale");
  const pnl = h("span", { class: "risk-banner-pnl mono", testid: "risk-banner-pnl" });
  const reasons = h("ul", { class: "risk-banner-reasons", testid: "risk-reasons", "aria-label": "Why" });
  const how = h("p", { class: "how", testid: "risk-how", hidden: true });
  const usage = h("ul", { class: "risk-usage", testid: "risk-banner-usage", "aria-label": "Limit usage" });
  const warnings = h("ul", { class: "risk-banner-warnings small", testid: "risk-banner-warnings" });
  const health = h("ul", { class: "risk-banner-health", testid: "risk-banner-health", "aria-label": "Health warnings" });
  const banner = h("section", { class: "risk-banner", testid: "risk-banner", "aria-label": "Risk",
    dataset: { state: "none" } },
  h("div", { class: "risk-banner-head", role: "status", "aria-live": "polite" }, state, label, pnl, stale, last),
  reasons, how, usage, warnings, health);
  $("banner-slot").append(banner);
  const badge = $("risk-badge");
  const staleBadge = $("risk-stale");

  function render(risk, ts) {
    const name = String(risk?.status ?? risk?.state ?? "unknown");
    banner.dataset.state = name;
    state.dataset.state = name;
    state.textContent = name;
    label.textContent = LABELS[name] || name;
    badge.textContent = `risk: ${name}`;
    badge.dataset.state = name;
    pnl.textContent = risk?.day_pnl !== undefined
      ? `day P&L ${money(risk.day_pnl, { signed: true })} · equity ${money(risk.equity)}` : "";
    setChildren(reasons, (risk?.reasons || []).map((reason) => h("li", {}, String(reason))));
    how.hidden = !risk?.how_to_enable;
    setChildren(how, risk?.how_to_enable ? [h("strong", {}, "How to enable: "), String(risk.how_to_enable)] : []);
    setChildren(usage, usageItems(risk).map(usageRow));
    setChildren(warnings, (risk?.warnings || []).map((warning) => h("li", {}, String(warning))));
    if (ts) refresh();
  }

  on("risk", (event) => {
    if (heartbeat.lastTs) {
      const gap = (Date.parse(event.ts) - Date.parse(heartbeat.lastTs)) / 1000;
      if (Number.isFinite(gap) && gap > 0) heartbeat.measured = gap;
    }
    heartbeat.lastTs = event.ts;
    heartbeat.count += 1;
    last.dataset.count = String(heartbeat.count);
    render(event.state || {}, event.ts);
  });
  on("ui:config", (config) => {
    const value = Number(config?.settings?.risk_eval_sec);
    if (Number.isFinite(value) && value > 0) heartbeat.configured = value;
  });
  on("ui:session", async () => {
    try {
      const snapshot = await api("/stream/risk");
      if (banner.dataset.state === "none") render(snapshot.state, null);
    } catch (error) {
      if (banner.dataset.state === "none") render({ state: "unknown", reasons: [error.message] }, null);
    }
  });

  // A KPI in breach stays in the banner until the same KPI reports ok again.
  const breaches = new Map();
  on("health", (event) => {
    const key = `${event.kpi}${event.channel ? `:${event.channel}` : ""}`;
    if (event.status === "breach") breaches.set(key, event);
    else breaches.delete(key);
    setChildren(health, [...breaches.values()].map((breach) => h("li", { class: "tag warn", testid: "risk-health-breach",
      dataset: { kpi: String(breach.kpi) } }, String(breach.msg || `${words(breach.kpi)} in breach`))));
    banner.dataset.health = breaches.size ? "breach" : "ok";
  });

  function refresh() {
    if (!heartbeat.lastTs) return;
    const ms = eventAge(heartbeat.lastTs);
    last.textContent = `as of ${time(heartbeat.lastTs)} (${age(ms)})`;
    last.title = heartbeat.lastTs;
    const isStale = ms > 3 * intervalMs();
    stale.hidden = !isStale;
    staleBadge.hidden = !isStale;
    banner.classList.toggle("is-stale", isStale);
  }
  setInterval(refresh, 250);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
else mount();
