// The chart page: candles of one symbol (GET /chart/{symbol}: Polygon aggregates, never invented), folded live
// from /ws `price` events into the last candle, with the session VWAP, the prior day's high/low, the opening
// range and the trader's own levels (alert levels, plan entry/stop/targets, position average and stop, fills)
// as labelled price lines; a plan typed in the planner below is drawn as soon as it is valid. Every line is also
// listed as text next to the chart (screen readers, phones). Drawn by TradingView's lightweight-charts
// (api/static/vendor, see its LICENSE); the page's route carries the symbol (#/chart/SPY).

import { api, h, registerPanel, setChildren, useStyle } from "/static/app.js";
import { dateTime, price, words } from "/static/format.js";
import { navigate } from "/static/router.js";

useStyle("/static/panels/chart.css");

const TIMESPANS = { minute: { label: "1 minute, 2 days", days: 2 }, day: { label: "Daily, 10 days", days: 10 } };
const COLORS = {
  alert: "#f5b041", plan_entry: "#4aa3ff", plan_stop: "#ff5c5c", plan_target: "#2ecc71", position_avg: "#b48cff",
  position_stop: "#ff8c69", fill: "#d7dde6", prior_day: "#8590a0", opening_range: "#4fd1c5",
};
const BUCKET_SEC = { minute: 60, day: 86400 };

/** The levels a valid plan draws: entry, stop, each target. */
function planLevels(plan) {
  if (!plan) return [];
  return [{ kind: "plan_entry", price: plan.entry, label: "plan entry" },
    { kind: "plan_stop", price: plan.stop, label: "plan stop" },
    ...(plan.targets || []).map((t, i) => ({ kind: "plan_target", price: t, label: `plan T${i + 1}` }))];
}

registerPanel({
  id: "chart",
  title: "Chart",
  page: "chart",
  order: 1,
  wide: true,
  mount(body, { on, actions }) {
    const symbolInput = h("input", { id: "chart-symbol", testid: "chart-symbol", autocomplete: "off",
      spellcheck: "false", placeholder: "SPY", maxlength: "32" });
    const timespan = h("select", { id: "chart-timespan", testid: "chart-timespan" },
      Object.entries(TIMESPANS).map(([value, { label }]) => h("option", { value }, label)));
    const form = h("form", { class: "chart-form", testid: "chart-form", novalidate: true, "aria-label": "Chart symbol" },
      h("div", { class: "field" }, h("label", { for: "chart-symbol" }, "Symbol"), symbolInput),
      h("div", { class: "field" }, h("label", { for: "chart-timespan" }, "Candles"), timespan),
      h("button", { type: "submit", class: "btn primary", testid: "chart-load" }, "Show"));
    const status = h("p", { class: "muted small", testid: "chart-status", role: "status", "aria-live": "polite" },
      "Pick a symbol to chart.");
    const how = h("p", { class: "how", testid: "chart-how", hidden: true });
    const canvas = h("div", { class: "chart-canvas", testid: "chart-canvas", role: "img",
      "aria-label": "Price chart", dataset: { candles: "0", lines: "0" } });
    const levels = h("ul", { class: "chart-levels", testid: "chart-levels", "aria-label": "Levels on the chart" });
    const credit = h("p", { class: "muted small chart-credit" }, "Chart by ",
      h("a", { href: "https://www.tradingview.com/lightweight-charts/", target: "_blank", rel: "noopener noreferrer" },
        "TradingView Lightweight Charts"));
    setChildren(body, form, status, how, h("div", { class: "chart-layout" }, canvas, levels), credit);

    const lib = window.LightweightCharts;
    if (!lib) {
      status.textContent = "The chart library did not load (api/static/vendor/lightweight-charts): run make vendor.";
      return;
    }
    const chart = lib.createChart(canvas, {
      autoSize: true,
      layout: { background: { type: "solid", color: "#12161d" }, textColor: "#c3cad5", attributionLogo: false },
      grid: { vertLines: { color: "#1b212b" }, horzLines: { color: "#1b212b" } },
      timeScale: { timeVisible: true, secondsVisible: false, borderColor: "#232a36" },
      rightPriceScale: { borderColor: "#232a36" },
      localization: { priceFormatter: (value) => price(value) },
    });
    const candles = chart.addSeries(lib.CandlestickSeries, { upColor: "#2ecc71", downColor: "#ff5c5c",
      wickUpColor: "#2ecc71", wickDownColor: "#ff5c5c", borderVisible: false });
    const vwap = chart.addSeries(lib.LineSeries, { color: "#f5b041", lineWidth: 1, priceLineVisible: false,
      lastValueVisible: false, title: "VWAP" });

    let symbol = "";
    let span = "minute";
    let serverLevels = [];
    let plan = null;
    let lines = [];
    let last = null;  // the last candle, for live folding

    function drawLevels() {
      for (const line of lines) candles.removePriceLine(line);
      const mine = plan && (!plan.symbol || plan.symbol.toUpperCase() === symbol) ? planLevels(plan) : [];
      const all = [...serverLevels, ...mine].filter((level) => Number.isFinite(Number(level.price)));
      lines = all.map((level) => candles.createPriceLine({ price: Number(level.price), color: COLORS[level.kind] || "#8590a0",
        lineWidth: 1, lineStyle: level.kind.startsWith("plan") || level.kind === "alert" ? lib.LineStyle.Dashed
          : lib.LineStyle.Dotted, axisLabelVisible: true, title: level.label }));
      setChildren(levels, all.map((level) => h("li", { testid: "chart-level", dataset: { kind: level.kind } },
        h("span", { class: `swatch kind-${level.kind}`, "aria-hidden": "true" }),
        h("span", { class: "chart-level-label" }, level.label || words(level.kind)),
        h("span", { class: "mono" }, price(level.price)))));
      canvas.dataset.lines = String(lines.length);
    }

    async function load() {
      if (!symbol) return;
      status.textContent = `Loading ${symbol}…`;
      how.hidden = true;
      try {
        const data = await api(`/chart/${encodeURIComponent(symbol)}`,
          { query: { timespan: span, multiplier: 1, days: TIMESPANS[span].days } });
        const bars = (data.candles || []).map((c) => ({ time: c.t, open: Number(c.o), high: Number(c.h),
          low: Number(c.l), close: Number(c.c) }));
        candles.setData(bars);
        vwap.setData((data.vwap || []).map((p) => ({ time: p.t, value: Number(p.value) })));
        last = bars.length ? { ...bars[bars.length - 1] } : null;
        serverLevels = [...(data.levels || [])];
        if (data.prior_day) {
          serverLevels.push({ kind: "prior_day", price: data.prior_day.high, label: "prior-day high" },
            { kind: "prior_day", price: data.prior_day.low, label: "prior-day low" });
        }
        if (data.opening_range) {
          const minutes = data.opening_range.minutes;
          serverLevels.push({ kind: "opening_range", price: data.opening_range.high, label: `OR${minutes} high` },
            { kind: "opening_range", price: data.opening_range.low, label: `OR${minutes} low` });
        }
        drawLevels();
        chart.timeScale().fitContent();
        canvas.dataset.candles = String(bars.length);
        canvas.setAttribute("aria-label", `${symbol} ${span === "minute" ? "1-minute" : "daily"} candles, `
          + `${bars.length} bars, last ${last ? price(last.close) : "none"}`);
        status.textContent = bars.length
          ? `${symbol} · ${bars.length} candles · ${data.source} · as of ${dateTime(data.as_of)}`
          : `${symbol}: no candles for this period (${data.source}).`;
        if ((data.warnings || []).length) status.textContent += ` ${data.warnings.join(" ")}`;
      } catch (error) {
        candles.setData([]);
        vwap.setData([]);
        canvas.dataset.candles = "0";
        serverLevels = [];
        drawLevels();
        status.textContent = `No chart for ${symbol}: ${error.message}`;
        if (error.details?.how_to_enable) {
          how.hidden = false;
          how.textContent = `How to enable: ${error.details.how_to_enable}`;
        }
      }
    }

    function show(next) {
      const wanted = String(next || "").trim().toUpperCase();
      if (!wanted || wanted === symbol) return;
      symbol = wanted;
      symbolInput.value = symbol;
      load();
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const wanted = symbolInput.value.trim().toUpperCase();
      if (!wanted) { status.textContent = "Enter a symbol, e.g. SPY."; return; }
      navigate("chart", wanted);
    });
    timespan.addEventListener("change", () => { span = timespan.value; load(); });

    on("ui:route", ({ page, params }) => {
      if (page !== "chart") return;
      if (params[0]) show(params[0]);
      else if (!symbol) api("/settings").then((s) => show((s.watchlist || [])[0])).catch(() => {});
    });
    on("ui:plan", (event) => { plan = event.plan; drawLevels(); });
    on("price", (event) => {
      if (event.symbol !== symbol || !last) return;
      const value = Number(event.last);
      const stamp = Date.parse(event.as_of || event.ts) / 1000;
      if (!Number.isFinite(value) || !Number.isFinite(stamp)) return;
      const bucket = Math.floor(stamp / BUCKET_SEC[span]) * BUCKET_SEC[span];
      if (bucket > last.time) last = { time: bucket, open: value, high: value, low: value, close: value };
      else if (bucket === last.time) last = { ...last, high: Math.max(last.high, value), low: Math.min(last.low, value), close: value };
      else return;
      candles.update(last);
      canvas.dataset.candles = String(candles.data().length);
      canvas.dataset.last = String(value);
    }, { replay: false });
    const refresh = h("button", { type: "button", class: "btn small ghost", testid: "chart-refresh" }, "Reload");
    refresh.addEventListener("click", load);
    actions.append(refresh);
  },
});
