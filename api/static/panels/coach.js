// Coach panel: a conversation with the coach (POST /coach/chat), suggestion cards and the execution checklist.
//
// Each assistant reply shows:
//   content              as plain text (never HTML); numbers no tool result of the turn contains are marked
//   unverified numbers   listed under the reply ("not from any data source this turn")
//   suggestion cards     kind, text, confidence bar with its factors (and the coach's labelled adjustment, if any),
//                        rationale, sources (tool · endpoint · as-of), and an action button:
//                          order_intent -> the confirm dialog when the page has one (window.openOrderConfirm),
//                                          otherwise the intent id to confirm from the orders panel or a bot;
//                          alert_draft  -> "Create alert" (POST /alerts with the draft)
//   checklist            plan -> size -> risk check -> alert/order -> management, with each step's status
// The conversation id is kept in localStorage so a reload continues the conversation (GET /coach/conversations).
// Everything shown is text (textContent / text nodes), never HTML.

import { api, emit, h, integrations, registerPanel, setChildren, useStyle } from "/static/app.js";
import { share, time } from "/static/format.js";

useStyle("/static/panels/coach.css");
const CONVERSATION_KEY = "tradeassist.coachConversation";
const MAX_CHARS = 4000;

const store = {
  get() { try { return localStorage.getItem(CONVERSATION_KEY) || null; } catch { return null; } },
  set(id) { try { if (id) localStorage.setItem(CONVERSATION_KEY, id); else localStorage.removeItem(CONVERSATION_KEY); } catch { /* private mode */ } },
};

/** The reply text with each unverified number wrapped in a <mark> (text nodes only). */
function markedText(content, unverified) {
  const text = String(content ?? "");
  const wanted = (unverified || []).map(String).filter(Boolean);
  if (!wanted.length) return [text];
  const escaped = wanted.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).sort((a, b) => b.length - a.length);
  const pattern = new RegExp(`(${escaped.join("|")})`, "g");
  return text.split(pattern).map((part, i) => (i % 2 === 1
    ? h("mark", { class: "coach-unverified", title: "not found in any tool result of this turn" }, part)
    : part));
}

function pct(value) {
  const number = Number(value);
  return Number.isFinite(number) ? Math.round(Math.max(0, Math.min(1, number)) * 100) : 0;
}

function confidenceView(confidence) {
  const score = pct(confidence?.score);
  const factors = confidence?.factors || [];
  const adjustment = confidence?.adjustment;
  const fill = h("div", { class: "coach-bar-fill" });
  fill.style.width = `${score}%`;  // CSSOM, allowed by the page's CSP (inline style attributes are not)
  return h("div", { class: "coach-confidence", testid: "coach-confidence" },
    h("div", { class: "coach-confidence-head" },
      h("span", {}, "confidence "),
      h("strong", { testid: "coach-confidence-score" }, `${score}%`),
      adjustment ? h("span", { class: "muted small" }, ` (computed ${pct(confidence.base)}%)`) : null),
    h("div", { class: "coach-bar", role: "meter", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": String(score), "aria-label": "confidence" }, fill),
    factors.length ? h("ul", { class: "coach-factors", testid: "coach-factors" },
      factors.map((f) => h("li", {},
        h("span", { class: "coach-factor-name" }, String(f.name).replace(/_/g, " ")),
        h("span", { class: "coach-factor-value" }, share(f.value)),
        h("span", { class: "muted small" }, ` ${String(f.explanation ?? "")}`)))) : null,
    adjustment ? h("p", { class: "coach-adjustment small", testid: "coach-adjustment" }, String(adjustment.label)) : null);
}

function sourcesView(sources) {
  if (!sources?.length) return null;
  return h("ul", { class: "coach-sources small", testid: "coach-sources", "aria-label": "Sources" },
    sources.map((s) => h("li", {},
      h("span", { class: "tag" }, String(s.tool)), " ", String(s.endpoint ?? ""),
      s.as_of ? h("span", { class: "muted", title: String(s.as_of) }, ` as of ${time(s.as_of)}`) : null)));
}

function actionView(action, status) {
  if (!action) return null;
  if (action.kind === "order_intent") {
    const button = h("button", { type: "button", class: "btn primary small", testid: "coach-open-intent" },
      "Review & confirm…");
    button.addEventListener("click", () => {
      const intent = { intent_id: action.ref, token: action.payload?.token, order: action.payload };
      if (typeof window.openOrderConfirm === "function") {
        window.openOrderConfirm(intent);
      } else {
        status.textContent = `Order intent ${action.ref} is waiting: confirm or cancel it from the orders panel `
          + "or a bot. Nothing was placed.";
      }
    });
    return h("div", { class: "coach-action" }, button,
      h("span", { class: "muted small", testid: "coach-intent-id" }, ` intent ${String(action.ref)}`));
  }
  if (action.kind === "alert_draft") {
    const button = h("button", { type: "button", class: "btn small", testid: "coach-create-alert" }, "Create alert");
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const alert = await api("/alerts", { method: "POST", body: action.payload });
        status.textContent = `Alert created${alert?.id ? ` (${alert.id})` : ""}.`;
      } catch (error) {
        status.textContent = `Could not create the alert: ${error.message}`;
        button.disabled = false;
      }
    });
    return h("div", { class: "coach-action" }, button);
  }
  return null;
}

function suggestionCard(s) {
  const status = h("p", { class: "coach-action-status small", role: "status" });
  return h("article", { class: `coach-card kind-${s.kind}`, testid: "coach-suggestion", dataset: { kind: String(s.kind) } },
    h("div", { class: "coach-card-head" }, h("span", { class: "tag" }, String(s.kind))),
    h("p", { class: "coach-card-text" }, String(s.text ?? "")),
    confidenceView(s.confidence),
    s.rationale ? h("p", { class: "muted small coach-rationale" }, String(s.rationale)) : null,
    sourcesView(s.sources),
    actionView(s.action, status),
    status);
}

function checklistView(checklist) {
  if (!checklist?.length) return null;
  return h("ol", { class: "coach-checklist", testid: "coach-checklist", "aria-label": "Execution checklist" },
    checklist.map((step) => h("li", { dataset: { status: String(step.status) } },
      h("span", { class: `tag status-${step.status}` }, String(step.status)), " ",
      h("strong", {}, String(step.stage).replace(/_/g, " ")), ": ", String(step.text ?? ""))));
}

function assistantView(reply) {
  const unverified = reply.unverified_numbers || [];
  return h("li", { class: "coach-msg assistant", testid: "coach-reply" },
    h("div", { class: "coach-text" }, markedText(reply.content, unverified)),
    unverified.length ? h("p", { class: "coach-warning small", testid: "coach-unverified", role: "note" },
      `Unverified numbers (in no data source of this turn): ${unverified.join(", ")}`) : null,
    (reply.notes || []).length ? h("p", { class: "muted small" }, (reply.notes || []).join(" · ")) : null,
    (reply.suggestions || []).length ? h("div", { class: "coach-cards" }, reply.suggestions.map(suggestionCard)) : null,
    checklistView(reply.checklist),
    (reply.tools || []).length ? h("p", { class: "muted small coach-tools" },
      `tools: ${reply.tools.map((t) => `${t.name}${t.ok ? "" : " (failed)"}`).join(", ")}`) : null);
}

function userView(text) {
  return h("li", { class: "coach-msg user", testid: "coach-user-message" }, h("div", { class: "coach-text" }, String(text)));
}

registerPanel({
  id: "coach",
  title: "Coach",
  page: "coach",
  order: 1,
  wide: true,
  mount(body, { actions, on: listen }) {
    const log = h("ol", { class: "coach-log", testid: "coach-log", "aria-live": "polite", "aria-label": "Conversation" });
    const empty = h("p", { class: "muted", testid: "coach-empty" },
      "Ask about a setup, e.g. “Is the SPY 512 breakout worth taking?”. Answers use live data and show their sources.");
    const input = h("textarea", { id: "coach-input", rows: "2", maxlength: String(MAX_CHARS), testid: "coach-input",
      placeholder: "Ask the coach… (Ctrl+Enter to send)" });
    const send = h("button", { type: "submit", class: "btn primary", testid: "coach-send" }, "Send");
    const error = h("p", { class: "field-error", testid: "coach-error", role: "alert", hidden: true });
    const form = h("form", { class: "coach-form", testid: "coach-form", novalidate: true, "aria-label": "Ask the coach" },
      h("label", { for: "coach-input", class: "muted small" }, "Message"), input, h("div", { class: "form-row end" }, error, send));
    const reset = h("button", { type: "button", class: "btn ghost small", testid: "coach-new" }, "New conversation");
    actions.append(reset);
    const disabled = h("p", { class: "how", testid: "coach-disabled", role: "status", hidden: true });
    setChildren(body, disabled, empty, log, form);

    /** Say the coach is off (and how to turn it on) before anyone types, from the integration state. */
    function showState() {
      const coach = integrations().coach;
      if (!coach) return;
      disabled.hidden = Boolean(coach.enabled);
      send.disabled = !coach.enabled;
      input.disabled = !coach.enabled;
      setChildren(disabled, coach.enabled ? [] : [h("strong", {}, "The coach is disabled: "), String(coach.reason ?? ""),
        coach.how_to_enable ? `. How to enable: ${coach.how_to_enable}.` : ""]);
    }

    let conversationId = store.get();
    let busy = false;

    function showError(err) {
      error.hidden = !err;
      error.textContent = err ? err.message : "";
    }

    async function restore() {
      if (!conversationId) return;
      try {
        const stored = await api(`/coach/conversations/${encodeURIComponent(conversationId)}`);
        log.replaceChildren(...(stored.messages || []).map((m) => (m.role === "user" ? userView(m.content) : assistantView(m))));
        empty.hidden = log.children.length > 0;
      } catch (err) {
        if (err.status === 404) { conversationId = null; store.set(null); return; }
        if (err.status !== 503) showError(err);
      }
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const message = input.value.trim();
      if (!message || busy) return;
      busy = true;
      send.disabled = true;
      showError(null);
      log.append(userView(message));
      empty.hidden = true;
      const pending = h("li", { class: "coach-msg assistant muted", testid: "coach-pending" }, "thinking…");
      log.append(pending);
      try {
        const reply = await api("/coach/chat", { method: "POST", body: conversationId ? { message, conversation_id: conversationId } : { message } });
        conversationId = reply.conversation_id;
        store.set(conversationId);
        pending.replaceWith(assistantView(reply));
        emit({ type: "ui:coach-reply", content: reply.content, conversation_id: reply.conversation_id });
        input.value = "";
      } catch (err) {
        pending.remove();
        const how = err.details?.how_to_enable ? ` ${err.details.how_to_enable}` : "";
        showError({ message: `${err.message}${how}` });
      } finally {
        busy = false;
        send.disabled = false;
        showState();
        input.focus();
      }
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
    });
    reset.addEventListener("click", () => {
      conversationId = null;
      store.set(null);
      log.replaceChildren();
      empty.hidden = false;
      showError(null);
    });
    listen("ui:session", () => restore());
    listen("ui:config", showState);
    listen("status", showState);
  },
});
