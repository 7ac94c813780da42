// News panel: the watchlist's stored news, newest first (title linked as the source wrote it, time, source,
// symbol and sentiment chips), the next earnings releases as badges here and on the watchlist rows, and every
// source that is off, not in the plan or failing, with its reason, so an empty list never reads as "no news".
//
// First paint: GET /settings (the watchlist), GET /news?symbols=..., GET /earnings. Then each `news` event on a
// watched symbol is put on top. Text only, never HTML.

import { api, on, registerPanel, useStyle } from "/static/app.js";
import { dateTime } from "/static/format.js";

useStyle("/static/panels/news.css");
const MAX_ITEMS = 50;
const MARKS = { positive: "▲", negative: "▼", neutral: "•" };
const TIMES = { bmo: "before open", amc: "after close", unknown: "time n/a" };
const STATES = { disabled: "off", not_entitled: "not in your plan", error: "failing" };

/** http(s) links only: a feed could carry `javascript:` and must never get a clickable one. */
function safeUrl(url) {
  try {
    const parsed = new URL(String(url));
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

registerPanel({
  id: "news",
  title: "News",
  page: "news",
  order: 1,
  wide: true,
  mount(body, { h, setChildren }) {
    const sources = h("ul", { class: "news-sources", testid: "news-sources", "aria-label": "Unavailable sources" });
    const earnings = h("div", { class: "news-earnings", testid: "news-earnings", role: "group", "aria-label": "Upcoming earnings" });
    const list = h("ol", { class: "news-list", testid: "news-list", "aria-live": "polite" });
    const empty = h("p", { class: "muted small", testid: "news-empty" }, "Loading news…");
    setChildren(body, sources, earnings, empty, list);

    let watchlist = [];
    let items = [];
    let releases = new Map();  // symbol -> the next release

    function sentimentChips(item) {
      const rated = item.sentiments?.length ? item.sentiments : item.sentiment ? [item.sentiment] : [];
      return rated.map((s) => h("span", { class: "news-chip", testid: "news-sentiment",
        dataset: { sentiment: s.value }, title: s.reasoning || "" }, `${MARKS[s.value] || ""}${s.symbol} ${s.value}`));
    }

    function row(item, fresh) {
      const url = safeUrl(item.url);
      const title = url
        ? h("a", { class: "news-title", testid: "news-title", href: url, target: "_blank", rel: "noopener noreferrer" },
          item.title)
        : h("span", { class: "news-title", testid: "news-title" }, item.title);
      return h("li", { class: "news-item", testid: "news-item", dataset: { id: item.id, fresh: String(fresh) } },
        title,
        h("div", { class: "news-meta muted" },
          h("time", { datetime: item.published_at }, dateTime(item.published_at)),
          h("span", { testid: "news-source" }, item.source),
          (item.symbols || []).map((symbol) => h("span", { class: "news-chip", testid: "news-symbol" }, symbol)),
          sentimentChips(item)));
    }

    function renderList(freshId = null) {
      items.sort((a, b) => String(b.published_at).localeCompare(String(a.published_at)));
      items = items.slice(0, MAX_ITEMS);
      setChildren(list, items.map((item) => row(item, item.id === freshId)));
      empty.hidden = items.length > 0;
      empty.textContent = sources.children.length
        ? "No news shown: some sources are unavailable (above)."
        : "No stored news for the watchlist yet.";
    }

    function renderSources(statuses) {
      setChildren(sources, (statuses || []).filter((s) => s.state !== "ok").map((s) =>
        h("li", { class: "news-source", testid: "news-source-state", dataset: { source: s.source, state: s.state } },
          `${s.source} ${STATES[s.state] || s.state}: ${s.reason}${s.how_to_enable ? ` (${s.how_to_enable})` : ""}`)));
    }

    function badgeText(release) {
      return `ER ${release.date.slice(5)} ${TIMES[release.time] || release.time}`;
    }

    function decorateRows() {
      for (const rowEl of document.querySelectorAll('[data-testid="watch-row"]')) {
        const release = releases.get(rowEl.dataset.symbol);
        const cell = rowEl.querySelector("th") || rowEl.firstElementChild;
        let badge = cell?.querySelector('[data-testid="earnings-badge"]');
        if (!release) { badge?.remove(); continue; }
        if (!badge && cell) {
          badge = h("span", { class: "earnings-badge", testid: "earnings-badge" });
          cell.append(badge);
        }
        const text = badgeText(release);
        if (badge && badge.textContent !== text) {  // unchanged: no mutation, so the observer below settles
          badge.textContent = text;
          badge.title = `${release.symbol} reports ${release.date} (${release.time}, ${release.source}, ` +
            `${release.confirmed ? "confirmed" : "projected"})`;
        }
      }
    }

    function renderEarnings(answer) {
      releases = new Map();
      for (const release of answer?.items || []) {
        if (!releases.has(release.symbol)) releases.set(release.symbol, release);
      }
      const unavailable = (answer?.sources || []).filter((s) => s.state !== "ok");
      setChildren(earnings,
        [...releases.values()].map((r) => h("span", { class: "earnings-badge", testid: "news-earnings-badge",
          dataset: { symbol: r.symbol } }, `${r.symbol} ${badgeText(r)}`)),
        unavailable.map((s) => h("span", { class: "muted small", testid: "news-earnings-source",
          dataset: { state: s.state } }, `earnings ${s.source} ${STATES[s.state] || s.state}: ${s.reason}`)));
      decorateRows();
    }

    async function load() {
      try {
        watchlist = (await api("/settings")).watchlist || [];
        const page = await api("/news", { query: { symbols: watchlist.join(","), limit: MAX_ITEMS } });
        items = page.items || [];
        renderSources(page.sources);
        renderList();
      } catch (error) {
        empty.hidden = false;
        empty.textContent = `News could not be loaded: ${error.message}`;
      }
      if (!watchlist.length) return;
      try {
        renderEarnings(await api("/earnings", { query: { symbols: watchlist.join(",") } }));
      } catch (error) {
        setChildren(earnings, h("span", { class: "muted small", testid: "news-earnings-source" },
          `Earnings could not be loaded: ${error.message}`));
      }
    }

    on("news", (event) => {
      if (!event.id || items.some((item) => item.id === event.id)) return;
      if (watchlist.length && !(event.symbols || []).some((s) => watchlist.includes(s))) return;
      items.push(event);
      renderList(event.id);
    }, { replay: false });
    on("ui:session", load);
    // The watchlist panel builds its rows on its own schedule: badge a row whenever one appears.
    new MutationObserver(() => decorateRows()).observe(document.querySelector("[data-testid='board']") || body,
      { childList: true, subtree: true });
  },
});
