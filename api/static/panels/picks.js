// Top picks: the scanner's best intraday setups as cards (symbol, setup, direction, trigger/stop/targets,
// confidence with its factors on hover/tap, freshness, status) with Alert at trigger, Take setup and Explain.
//
// First paint: GET /picks?limit=. Then every `picks` event updates the cards it names (new, re-scored,
// triggered, invalidated, expired) and the list is re-ranked by confidence. Take setup proposes a bracket intent
// (POST /actions {"target": "pick", "action": "take"}) and opens the confirm dialog; nothing is placed from here.
// A pick whose symbol reports earnings soon carries an earnings badge (GET /earnings). Text only.

import { api, registerPanel, useStyle } from "/static/app.js";
import { runAction } from "/static/confirm.js";
import { money, price, qty, time } from "/static/format.js";

useStyle("/static/panels/picks.css");
const TIMES = { bmo: "before open", amc: "after close", unknown: "time n/a" };
const LIMIT = 8;
const ACTIVE = new Set(["forming", "triggered"]);

function factorText(factor) {
  return `${factor.name.replaceAll("_", " ")} ${Number(factor.value).toFixed(2)} (weight ${factor.weight}): `
    + factor.explanation;
}

registerPanel({
  id: "picks",
  title: "Top picks",
  page: "dashboard",
  order: 3,
  mount(body, { on, h, setChildren }) {
    const picks = new Map();
    let earnings = new Map();  // symbol -> next release
    const universe = h("p", { class: "muted small", testid: "picks-universe" }, "loading picks…");
    const list = h("ol", { class: "picks-list", testid: "picks-list", "aria-live": "polite" });
    const status = h("p", { class: "small", testid: "picks-status", role: "status" });
    setChildren(body, universe, list, status);

    function card(pick) {
      const score = Math.round(pick.confidence.score * 100);
      const factors = h("ul", { class: "pick-factors", testid: "pick-factors" },
        pick.confidence.factors.map((f) => h("li", {}, factorText(f))));
      const confidence = h("button", { type: "button", class: "pick-confidence", testid: "pick-confidence",
        title: pick.confidence.factors.map(factorText).join("\n"), "aria-expanded": "false" },
      `${score}%`);
      confidence.addEventListener("click", () => {
        const open = !factors.classList.contains("open");
        factors.classList.toggle("open", open);
        confidence.setAttribute("aria-expanded", String(open));
      });
      const targets = pick.targets.map((t, i) => `${price(t)} (${pick.r_multiples[i]}R)`).join(" · ");
      const size = pick.size ? `${qty(pick.size.quantity)} sh · 1R ${money(pick.size.one_r_dollars)}` : (pick.size_note || "");
      const release = earnings.get(pick.symbol);
      const actions = h("div", { class: "pick-actions" });
      if (ACTIVE.has(pick.status)) {
        actions.append(
          h("button", { type: "button", class: "btn small", testid: "pick-alert",
            onclick: () => act(pick, "alert") }, "Alert at trigger"),
          h("button", { type: "button", class: "btn small primary", testid: "pick-take",
            onclick: () => act(pick, "take") }, "Take setup"),
          h("button", { type: "button", class: "btn small ghost", testid: "pick-explain",
            onclick: () => act(pick, "explain") }, "Explain"));
      }
      return h("li", { class: "pick-card", testid: "pick-card", dataset: { status: pick.status, id: pick.id } },
        h("div", { class: "pick-head" },
          h("a", { class: "pick-symbol", href: `#/chart/${encodeURIComponent(pick.symbol)}` }, pick.symbol),
          release ? h("span", { class: "earnings-badge", testid: "pick-earnings",
            title: `${pick.symbol} reports ${release.date} (${release.confirmed ? "confirmed" : "projected"})` },
          `ER ${release.date.slice(5)} ${TIMES[release.time] || release.time}`) : null,
          h("span", { class: `pick-direction ${pick.direction}` }, pick.direction),
          h("span", { class: "pick-setup" }, pick.setup_label),
          h("span", { class: "pill pick-status", testid: "pick-status" }, pick.status),
          confidence),
        h("div", { class: "pick-levels mono" },
          h("span", {}, `trigger ${price(pick.trigger)}`), h("span", {}, `stop ${price(pick.stop)}`),
          h("span", {}, `targets ${targets}`)),
        h("p", { class: "pick-why small" }, pick.why),
        factors,
        h("p", { class: "muted small pick-meta" },
          `${size}${size ? " · " : ""}as of ${time(pick.as_of)} · expires ${time(pick.expires_at)}`
          + (pick.reason ? ` · ${pick.reason}` : "")),
        actions);
    }

    function render() {
      const ranked = [...picks.values()].sort((a, b) => (ACTIVE.has(b.status) - ACTIVE.has(a.status))
        || b.confidence.score - a.confidence.score).slice(0, LIMIT);
      setChildren(list, ranked.length ? ranked.map(card) : h("li", { class: "muted" }, "No picks right now."));
    }

    async function act(pick, verb) {
      status.textContent = "";
      if (verb === "explain") {
        try {
          status.textContent = (await api(`/picks/${encodeURIComponent(pick.id)}/explain`, { method: "POST" })).content;
        } catch (error) {
          status.textContent = `explain: ${error.message}`;
        }
        return;
      }
      const { message } = await runAction({ target: "pick", id: pick.id, action: verb },
        `Take ${pick.direction} ${pick.symbol}`);
      status.textContent = message;
    }

    async function loadEarnings() {
      const symbols = [...new Set([...picks.values()].map((p) => p.symbol))];
      if (!symbols.length) return;
      try {
        const answer = await api("/earnings", { query: { symbols: symbols.join(",") } });
        earnings = new Map();
        for (const release of answer.items || []) if (!earnings.has(release.symbol)) earnings.set(release.symbol, release);
        render();
      } catch {
        /* no earnings source: the cards stay without badges (the News page says why) */
      }
    }

    async function load() {
      try {
        const page = await api("/picks", { query: { limit: LIMIT } });
        const u = page.universe;
        universe.textContent = `Scanning ${u.symbols.length} symbols (${u.source})` + (u.reason ? ` — ${u.reason}` : "");
        picks.clear();
        for (const pick of page.items) picks.set(pick.id, pick);
        render();
        loadEarnings();
      } catch (error) {
        universe.textContent = error.details?.how_to_enable
          ? `${error.message}. How to enable: ${error.details.how_to_enable}` : error.message;
      }
    }

    on("picks", (event) => {
      for (const pick of event.items || []) {
        const known = picks.get(pick.id);  // events carry no size (it follows the account): keep the read one
        picks.set(pick.id, known?.size ? { ...pick, size: known.size, size_note: known.size_note } : pick);
      }
      render();
    });
    load();
  },
});
