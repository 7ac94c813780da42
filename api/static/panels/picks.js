// Top picks: the scanner's best intraday setups as cards (symbol, setup, direction, trigger/stop/targets,
// confidence with its factors on hover/tap, freshness, status) with Alert at trigger, Take setup and Explain.
//
// First paint: GET /picks?limit=. Then every `picks` event updates the cards it names (new, re-scored,
// triggered, invalidated, expired) and the list is re-ranked by confidence. Take setup proposes a bracket intent
// (POST /picks/{id}/take) and opens the orders panel's confirm dialog; nothing is placed from here. Text only.

import { api, formatTime, registerPanel } from "/static/app.js";

const STYLE_HREF = "/static/panels/picks.css";
const LIMIT = 8;
const ACTIVE = new Set(["forming", "triggered"]);

if (!document.querySelector(`link[href="${STYLE_HREF}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = STYLE_HREF;
  document.head.append(link);
}

function factorText(factor) {
  return `${factor.name.replaceAll("_", " ")} ${Number(factor.value).toFixed(2)} (weight ${factor.weight}): `
    + factor.explanation;
}

registerPanel({
  id: "picks",
  title: "Top picks",
  column: "main",
  order: 0,
  mount(body, { on, h, setChildren }) {
    const picks = new Map();
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
      const targets = pick.targets.map((t, i) => `${t} (${pick.r_multiples[i]}R)`).join(" · ");
      const size = pick.size ? `${pick.size.quantity} sh · 1R $${pick.size.one_r_dollars}` : (pick.size_note || "");
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
          h("strong", { class: "pick-symbol" }, pick.symbol),
          h("span", { class: `pick-direction ${pick.direction}` }, pick.direction),
          h("span", { class: "pick-setup" }, pick.setup_label),
          h("span", { class: "pill pick-status", testid: "pick-status" }, pick.status),
          confidence),
        h("div", { class: "pick-levels mono" },
          h("span", {}, `trigger ${pick.trigger}`), h("span", {}, `stop ${pick.stop}`),
          h("span", {}, `targets ${targets}`)),
        h("p", { class: "pick-why small" }, pick.why),
        factors,
        h("p", { class: "muted small pick-meta" },
          `${size}${size ? " · " : ""}as of ${formatTime(pick.as_of)} · expires ${formatTime(pick.expires_at)}`
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
      try {
        const result = await api(`/picks/${encodeURIComponent(pick.id)}/${verb}`, { method: "POST" });
        if (verb === "alert") {
          status.textContent = `Alert created: ${result.symbol} ${result.condition.replace("_", " ")} ${result.level}.`;
        } else if (verb === "take") {
          status.textContent = `Bracket intent drafted for ${pick.symbol}: confirm it to send; nothing was placed.`;
          if (typeof window.openOrderConfirm === "function") {
            window.openOrderConfirm({ intent_id: result.intent.id, token: result.token });
          }
        } else {
          status.textContent = result.content;
        }
      } catch (error) {
        status.textContent = `${verb}: ${error.message}`;
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
