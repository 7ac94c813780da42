// Options panel: pick a symbol and an expiration, see the chain around the money with greeks (a `*` marks greeks
// computed here because the vendor had none), screen for liquid contracts, and express a stock plan as contracts.
// "Take" proposes a candidate's order (POST /broker/orders) and opens the orders panel's confirm dialog: nothing
// is sent before the trader confirms there. Text only, never HTML.

import { api, registerPanel, scrollBox, useStyle } from "/static/app.js";
import { openIntent } from "/static/confirm.js";
import { fixed, money, num } from "/static/format.js";

useStyle("/static/panels/options.css");
const STRIKES = 8;


registerPanel({
  id: "options",
  title: "Options",
  page: "options",
  order: 1,
  wide: true,
  mount(body, { h, setChildren }) {
    const input = (name, placeholder, size = "") => h("input", { type: "text", name, autocomplete: "off",
      spellcheck: "false", placeholder, testid: `opt-${name}`, "aria-label": name.replaceAll("_", " "), class: size });
    const select = (name, options) => h("select", { name, testid: `opt-${name}`, "aria-label": name.replaceAll("_", " ") },
      options.map((value) => h("option", { value }, value)));
    const symbol = input("symbol", "SPY");
    const expiration = h("select", { name: "expiration", testid: "opt-expiration", "aria-label": "expiration" });
    const status = h("p", { class: "muted small", testid: "opt-status", role: "status", "aria-live": "polite" },
      "Enter a symbol and load its expirations.");
    const chainBody = h("tbody", { testid: "opt-chain-body" });
    const chainHead = ["Strike", "Type", "Bid", "Ask", "IV %", "Delta", "Gamma", "Theta", "Vega", "OI", "Vol",
      "Spread %"];
    const chainTable = h("table", { class: "grid opt-chain", testid: "opt-chain" },
      h("caption", {}, "Chain around the money"),
      h("thead", {}, h("tr", {}, chainHead.map((x) => h("th", { scope: "col" }, x)))), chainBody);

    const screenFields = { type: select("type", ["", "call", "put"]), delta_min: input("delta_min", "0.30", "narrow"),
      delta_max: input("delta_max", "0.60", "narrow"), dte_min: input("dte_min", "0", "narrow"),
      dte_max: input("dte_max", "45", "narrow"), max_spread_pct: input("max_spread_pct", "10", "narrow"),
      min_open_interest: input("min_open_interest", "100", "narrow"), min_volume: input("min_volume", "", "narrow") };
    const screenList = h("ol", { class: "opt-screen", testid: "opt-screen-results" });

    const expressFields = { side: select("side", ["long", "short"]), entry: input("entry", "entry", "narrow"),
      stop: input("stop", "stop", "narrow"), targets: input("targets", "targets, e.g. 194, 196"),
      target_delta: input("target_delta", "0.50", "narrow"), dte_max: input("express_dte_max", "45", "narrow"),
      structure: select("structure", ["both", "single", "vertical"]) };
    const candidates = h("div", { class: "opt-candidates", testid: "opt-candidates" });
    const takeMessage = h("p", { class: "field-error", testid: "opt-take-error", role: "alert", hidden: true });

    const hedgeFields = { otm_pct: input("otm_pct", "5", "narrow"), min_dte: input("min_dte", "30", "narrow") };
    const hedgeResult = h("p", { class: "mono small", testid: "opt-hedge-result", "aria-live": "polite" });
    const labelled = (text, control) => h("label", { class: "opt-field" }, h("span", { class: "muted small" }, text), control);
    setChildren(body,
      h("form", { class: "opt-row", testid: "opt-load-form", novalidate: true, onsubmit: (e) => { e.preventDefault(); loadExpirations(); } },
        labelled("Symbol", symbol), h("button", { type: "submit", class: "btn", testid: "opt-load" }, "Load"),
        labelled("Expiration", expiration)),
      status, scrollBox("Option chain", chainTable),
      h("h3", {}, "Screen"),
      h("form", { class: "opt-row", testid: "opt-screen-form", novalidate: true, onsubmit: (e) => { e.preventDefault(); runScreen(); } },
        Object.entries(screenFields).map(([name, control]) => labelled(name.replaceAll("_", " "), control)),
        h("button", { type: "submit", class: "btn", testid: "opt-screen-run" }, "Screen")),
      screenList,
      h("h3", {}, "Express a stock plan"),
      h("form", { class: "opt-row", testid: "opt-express-form", novalidate: true, onsubmit: (e) => { e.preventDefault(); runExpress(); } },
        Object.entries(expressFields).map(([name, control]) => labelled(name.replaceAll("_", " "), control)),
        h("button", { type: "submit", class: "btn primary", testid: "opt-express-run" }, "Express")),
      takeMessage, candidates,
      h("h3", {}, "Hedge a long stock position"),
      h("form", { class: "opt-row", testid: "opt-hedge-form", novalidate: true, onsubmit: (e) => { e.preventDefault(); runHedge(); } },
        labelled("floor % below", hedgeFields.otm_pct), labelled("min DTE", hedgeFields.min_dte),
        h("button", { type: "submit", class: "btn", testid: "opt-hedge-run" }, "Propose protective put")),
      hedgeResult);

    const sym = () => symbol.value.trim().toUpperCase();
    const fail = (error) => { status.textContent = error.message; status.classList.add("field-error"); };
    const ok = (text) => { status.textContent = text; status.classList.remove("field-error"); };

    async function loadExpirations() {
      if (!sym()) return fail({ message: "enter a symbol, e.g. SPY" });
      ok("loading expirations…");
      try {
        const listed = await api(`/options/expirations/${encodeURIComponent(sym())}`);
        setChildren(expiration, listed.expirations.map((day) => h("option", { value: day }, day)));
        ok(`${listed.expirations.length} expirations (${listed.source})`);
        if (listed.expirations.length) await loadChain();
      } catch (error) { fail(error); }
    }

    function chainRow(c) {
      const computed = c.greeks_source === "computed" ? "*" : "";
      return h("tr", { dataset: { type: c.type, greeks: c.greeks_source }, title: c.greeks_note || "" },
        h("td", { class: "mono" }, fixed(c.strike)), h("td", {}, c.type), h("td", { class: "mono" }, fixed(c.bid)),
        h("td", { class: "mono" }, fixed(c.ask)), h("td", { class: "mono" }, c.iv === null ? "—" : fixed(c.iv * 100, 1)),
        h("td", { class: "mono", testid: "opt-delta" }, `${fixed(c.delta, 3)}${computed}`),
        h("td", { class: "mono" }, fixed(c.gamma, 4)), h("td", { class: "mono" }, fixed(c.theta, 3)),
        h("td", { class: "mono" }, fixed(c.vega, 3)), h("td", { class: "mono" }, num(c.open_interest, 0)),
        h("td", { class: "mono" }, num(c.volume, 0)), h("td", { class: "mono" }, fixed(c.spread_pct, 1)));
    }

    async function loadChain() {
      ok("loading chain…");
      try {
        const chain = await api(`/options/chain/${encodeURIComponent(sym())}`,
          { query: { expiration: expiration.value, strikes: STRIKES } });
        setChildren(chainBody, chain.contracts.map(chainRow));
        ok(`${chain.symbol} ${chain.expiration} · underlying ${chain.underlying_price ?? "unknown"} · ${chain.source}`
          + (chain.contracts.some((c) => c.greeks_source === "computed") ? " · * greeks computed here" : ""));
      } catch (error) { fail(error); }
    }
    expiration.addEventListener("change", loadChain);

    async function runScreen() {
      const query = { symbol: sym() };
      for (const [name, control] of Object.entries(screenFields)) query[name] = control.value.trim();
      try {
        const result = await api("/options/screen", { query });
        setChildren(screenList, result.results.length ? result.results.map((hit) => h("li", { testid: "opt-screen-hit" },
          h("span", { class: "mono" }, hit.contract.option_symbol), " ", h("span", { class: "muted small" }, hit.reason)))
          : [h("li", { class: "muted" }, "No contract passed the filters.")]);
        ok(`screened ${result.expirations.length} expirations`);
      } catch (error) { fail(error); }
    }

    async function take(candidate, button) {
      takeMessage.hidden = true;
      button.disabled = true;
      try {
        const proposal = await api("/broker/orders", { method: "POST",
          body: { ...candidate.order, source: "options", rationale: `options express: ${candidate.sizing}` } });
        await openIntent({ intent_id: proposal.intent.id, token: proposal.token });
      } catch (error) {
        takeMessage.textContent = error.message;
        takeMessage.hidden = false;
      } finally { button.disabled = false; }
    }

    function candidateCard(c, index) {
      const legs = c.legs.map((leg) => `${leg.side === "buy_to_open" ? "+" : "−"}${leg.option_symbol}`).join(" / ");
      const button = h("button", { type: "button", class: "btn primary", testid: `opt-take-${index}`,
        disabled: !c.order, onclick: () => take(c, button) }, c.order ? "Take" : "Too small to take");
      return h("article", { class: "opt-candidate card", testid: "opt-candidate", dataset: { structure: c.structure } },
        h("header", {}, h("strong", {}, `${c.structure}: ${legs}`), " ", h("span", { class: "muted small" }, `${c.dte} DTE`)),
        h("p", { class: "mono", testid: "opt-candidate-numbers" },
          `premium ${fixed(c.premium)} · ${c.contracts} contracts · risk at stop ${money(c.dollar_risk)} `
          + `(${money(c.risk_per_contract)}/ct) · breakeven ${fixed(c.breakeven)}`),
        c.targets.length ? h("p", { class: "mono small" }, c.targets.map((t) => `${t.target} → ${fixed(t.value)} (${t.pnl_per_contract >= 0 ? "+" : ""}${fixed(t.pnl_per_contract, 0)}/ct)`).join(" · ")) : null,
        h("p", { class: "muted small" }, c.sizing),
        c.warnings.length ? h("ul", { class: "opt-warnings" }, c.warnings.map((w) => h("li", { class: "warn" }, w))) : null,
        button);
    }

    async function runHedge() {
      const bodyJson = { symbol: sym() };
      if (hedgeFields.otm_pct.value.trim()) bodyJson.otm_pct = Number(hedgeFields.otm_pct.value);
      if (hedgeFields.min_dte.value.trim()) bodyJson.min_dte = Number(hedgeFields.min_dte.value);
      try {
        const hedge = await api("/options/hedge", { method: "POST", body: bodyJson });
        const e = hedge.effect;
        hedgeResult.textContent = `${e.contracts} x ${e.put.option_symbol} at ${fixed(e.premium)}: costs ${money(e.cost)}, `
          + `floor ${fixed(e.floor)}, max loss ${money(e.max_loss)} to ${hedge.expiration}`
          + (e.unhedged_shares ? ` (${e.unhedged_shares} shares not covered)` : "");
        await openIntent({ intent_id: hedge.intent.id, token: hedge.token });
      } catch (error) { hedgeResult.textContent = error.message; }
    }

    async function runExpress() {
      const targets = expressFields.targets.value.split(/[ ,]+/).filter(Boolean).map(Number);
      const bodyJson = { symbol: sym(), side: expressFields.side.value, entry: Number(expressFields.entry.value),
        stop: Number(expressFields.stop.value), targets, structure: expressFields.structure.value };
      if (expressFields.target_delta.value.trim()) bodyJson.target_delta = Number(expressFields.target_delta.value);
      if (expressFields.dte_max.value.trim()) bodyJson.dte_max = Number(expressFields.dte_max.value);
      takeMessage.hidden = true;
      try {
        const result = await api("/options/express", { method: "POST", body: bodyJson });
        setChildren(candidates, result.candidates.map(candidateCard),
          result.notes.map((note) => h("p", { class: "muted small" }, note)));
        ok(`${result.candidates.length} candidates from ${result.source}`);
      } catch (error) { fail(error); }
    }
  },
});
