// Health: the seed KPIs live (GET /diag/kpis: WS uptime, quote latency p95, alert delivery p95 per channel, plan
// compute p95, API error rate; each against its goal), data freshness per symbol, and the integrations with
// their state. Refreshed every few seconds while the page is shown, and at once on a `health` event (a KPI going
// into or out of breach; the risk banner shows the breach on every page). Text only, never HTML.

import { api, registerPanel, scrollBox, useStyle } from "/static/app.js";
import { age, num, words } from "/static/format.js";
import { integrationList } from "/static/panels/settings.js";

useStyle("/static/panels/health.css");

const REFRESH_MS = 5000;
const STATUS_TEXT = { ok: "ok", breach: "breach", no_data: "no data", fresh: "fresh", stale: "stale" };

function kpiValue(kpi) {
  if (kpi.value === null || kpi.value === undefined) return "no data yet";
  return `${num(kpi.value, kpi.unit === "%" ? 2 : 1)} ${kpi.unit}`;
}

registerPanel({
  id: "health",
  title: "Service levels",
  page: "health",
  order: 1,
  wide: true,
  mount(body, { on, h, setChildren, actions }) {
    const status = h("p", { class: "muted small", testid: "health-status", role: "status" });
    const kpis = h("ul", { class: "kpi-grid", testid: "health-kpis", "aria-label": "KPIs" });
    const freshness = h("tbody", { testid: "health-freshness" });
    const integrations = h("div", {});
    setChildren(body, status, kpis,
      h("h3", {}, "Data freshness"),
      scrollBox("Data freshness", h("table", { class: "grid" }, h("caption", { class: "sr-only" }, "Quote age per symbol"),
        h("thead", {}, h("tr", {}, ["Symbol", "Last quote", "Status"].map((t) => h("th", { scope: "col" }, t)))), freshness)),
      h("h3", {}, "Integrations"), integrations);

    let visible = false;
    let timer = null;

    async function load() {
      try {
        const data = await api("/diag/kpis");
        setChildren(kpis, (data.kpis || []).map((kpi) => h("li", { class: "kpi", testid: "health-kpi",
          dataset: { name: kpi.name, status: kpi.status, channel: kpi.channel ?? "" } },
        h("span", { class: "kpi-label" }, `${kpi.label}${kpi.channel ? ` (${words(kpi.channel)})` : ""}`),
        h("strong", { class: "kpi-value mono" }, kpiValue(kpi)),
        h("span", { class: `tag kpi-status ${kpi.status}` }, STATUS_TEXT[kpi.status] || words(kpi.status)),
        h("span", { class: "muted small" }, `goal ${num(kpi.goal, 2)} ${kpi.unit}`),
        kpi.detail ? h("span", { class: "muted small kpi-detail" }, String(kpi.detail)) : null)));
        setChildren(freshness, (data.freshness || []).length ? data.freshness.map((row) => h("tr", {
          testid: "health-fresh-row", dataset: { symbol: row.symbol, status: row.status } },
        h("th", { scope: "row" }, row.symbol),
        h("td", {}, row.age_sec === null || row.age_sec === undefined ? "no quote yet" : age(row.age_sec * 1000)),
        h("td", {}, h("span", { class: `tag ${row.status === "fresh" ? "ok" : "warn"}` }, STATUS_TEXT[row.status] || words(row.status)))))
          : h("tr", {}, h("td", { colspan: "3", class: "muted" }, "No symbols watched.")));
        const byName = Object.fromEntries((data.integrations || []).map((item) => [item.name, item]));
        setChildren(integrations, integrationList(h, byName, "health-integration"));
        status.textContent = `updated ${new Date().toLocaleTimeString("en-GB", { hour12: false })}`;
      } catch (error) {
        status.textContent = `The KPIs could not be loaded: ${error.message}`;
      }
    }

    function schedule() {
      clearTimeout(timer);
      if (!visible) return;
      timer = setTimeout(async () => { await load(); schedule(); }, REFRESH_MS);
    }

    on("ui:route", ({ page }) => {
      visible = page === "health";
      if (visible) { load(); schedule(); }
    });
    on("health", () => { if (visible) load(); }, { replay: false });
    const refresh = h("button", { type: "button", class: "btn small ghost", testid: "health-refresh" }, "Refresh");
    refresh.addEventListener("click", load);
    actions.append(refresh);
  },
});
