// Journal: add an entry (kind, symbol, tags, text) with an optional attachment (the plan on the chart page, or
// the coach's last rationale), list with filters and "load more", edit an entry in place (PATCH), delete, and
// export what the filters show as CSV or JSON (GET /journal/export, downloaded as a file). Text only.

import { api, fieldErrors, h, keyStore, on as listen, registerPanel, setChildren, useStyle } from "/static/app.js";
import { dateTime } from "/static/format.js";

useStyle("/static/panels/journal.css");

const JOURNAL_KINDS = ["note", "trade", "plan", "order", "coach"];
const JOURNAL_PAGE = 20;

registerPanel({
  id: "journal",
  title: "Journal",
  page: "journal",
  order: 1,
  wide: true,
  mount(body, { actions }) {
    // --- add form
    const field = (name, label, control) => {
      control.id = `journal-${name}`;
      control.name = name;
      control.dataset.testid = `journal-${name}`;
      control.setAttribute("aria-describedby", `journal-error-${name}`);
      const error = h("span", { class: "field-error", id: `journal-error-${name}`, testid: `journal-error-${name}`,
        role: "alert", hidden: true });
      return { wrap: h("div", { class: `field field-${name}` }, h("label", { for: control.id }, label), control, error),
        control, error };
    };
    const kind = field("kind", "Kind", h("select", {}, JOURNAL_KINDS.map((k) => h("option", { value: k }, k))));
    const symbol = field("symbol", "Symbol", h("input", { type: "text", autocomplete: "off", spellcheck: "false",
      placeholder: "SPY", maxlength: "32" }));
    const tags = field("tags", "Tags", h("input", { type: "text", autocomplete: "off", placeholder: "breakout, a+" }));
    const text = field("body", "Entry", h("textarea", { rows: "3", placeholder: "What did you see, plan or do?" }));
    const formError = h("p", { class: "field-error", testid: "journal-form-error", role: "alert", hidden: true });
    // --- attachments: the valid plan of the chart page, the coach's last rationale
    let lastPlan = null;
    let lastCoach = null;
    let attached = null;  // {plan?} | {rationale?}
    const attachPlan = h("button", { type: "button", class: "btn small", testid: "journal-attach-plan", disabled: true },
      "Attach plan");
    const attachCoach = h("button", { type: "button", class: "btn small", testid: "journal-attach-coach", disabled: true },
      "Attach coach rationale");
    const attachedView = h("p", { class: "muted small", testid: "journal-attached", role: "status" });
    const setAttached = (value, label) => { attached = value; attachedView.textContent = label; };
    attachPlan.addEventListener("click", () => setAttached({ plan: lastPlan },
      `Attached: plan ${lastPlan.side} ${lastPlan.symbol || ""} entry ${lastPlan.entry} stop ${lastPlan.stop}`));
    attachCoach.addEventListener("click", () => setAttached({ rationale: lastCoach },
      `Attached: coach rationale (${lastCoach.length} characters)`));
    listen("ui:plan", ({ plan }) => { lastPlan = plan; attachPlan.disabled = !plan; });
    listen("ui:coach-reply", ({ content }) => { lastCoach = content || null; attachCoach.disabled = !lastCoach; });
    const submit = h("button", { type: "submit", class: "btn primary", testid: "journal-submit" }, "Add entry");
    const fields = { kind, symbol, tags, body: text };
    const form = h("form", { class: "journal-form", testid: "journal-form", novalidate: true,
      "aria-label": "Add a journal entry" },
    h("div", { class: "form-row" }, kind.wrap, symbol.wrap, tags.wrap),
    text.wrap,
    h("div", { class: "attachments" }, attachPlan, attachCoach, attachedView),
    h("div", { class: "form-row end" }, formError, submit));

    // --- filters + list
    const filterSymbol = h("input", { type: "text", id: "journal-filter-symbol", testid: "journal-filter-symbol",
      placeholder: "all symbols", autocomplete: "off", spellcheck: "false" });
    const filterKind = h("select", { id: "journal-filter-kind", testid: "journal-filter-kind" },
      h("option", { value: "" }, "all kinds"), JOURNAL_KINDS.map((k) => h("option", { value: k }, k)));
    const listError = h("p", { class: "field-error", testid: "journal-list-error", role: "alert", hidden: true });
    const filters = h("form", { class: "journal-filters", testid: "journal-filters", "aria-label": "Filter journal" },
      h("label", { for: filterSymbol.id }, "Filter symbol"), filterSymbol,
      h("label", { for: filterKind.id }, "Filter kind"), filterKind,
      h("button", { type: "submit", class: "btn" }, "Filter"), listError);
    const list = h("ol", { class: "journal-list", testid: "journal-list", "aria-label": "Journal entries",
      "aria-live": "polite" });
    const empty = h("p", { class: "muted", testid: "journal-empty", hidden: true }, "No entries yet.");
    const more = h("button", { type: "button", class: "btn", testid: "journal-more", hidden: true }, "Load more");
    const refreshButton = h("button", { type: "button", class: "btn ghost small", testid: "journal-refresh",
      title: "Reload the journal" }, "Refresh");
    const exportCsv = h("button", { type: "button", class: "btn ghost small", testid: "journal-export-csv" }, "Export CSV");
    const exportJson = h("button", { type: "button", class: "btn ghost small", testid: "journal-export-json" }, "Export JSON");
    exportCsv.addEventListener("click", () => exportAs("csv"));
    exportJson.addEventListener("click", () => exportAs("json"));
    actions.append(refreshButton, exportCsv, exportJson);
    setChildren(body, form, filters, list, empty, h("div", { class: "more" }, more));

    let cursor = null;
    let loading = false;
    let query = {};

    function entryRow(entry) {
      const remove = h("button", { type: "button", class: "btn ghost small danger", testid: "journal-delete",
        "aria-label": `Delete entry from ${dateTime(entry.created_at)}` }, "×");
      remove.addEventListener("click", async () => {
        if (!confirm("Delete this journal entry?")) return;
        try {
          await api(`/journal/${encodeURIComponent(entry.id)}`, { method: "DELETE" });
          row.remove();
          empty.hidden = list.children.length > 0;
        } catch (error) {
          showListError(error);
        }
      });
      const edit = h("button", { type: "button", class: "btn ghost small", testid: "journal-edit",
        "aria-label": `Edit entry from ${dateTime(entry.created_at)}` }, "Edit");
      edit.addEventListener("click", () => editRow(row, entry));
      const row = h("li", { class: "entry", testid: "journal-entry", dataset: { id: String(entry.id), kind: String(entry.kind) } },
        h("div", { class: "entry-head" },
          h("time", { class: "entry-time", datetime: String(entry.created_at), title: String(entry.created_at) },
            dateTime(entry.created_at)),
          h("span", { class: `tag kind kind-${entry.kind}`, testid: "journal-entry-kind" }, String(entry.kind)),
          entry.symbol ? h("span", { class: "symbol", testid: "journal-entry-symbol" }, String(entry.symbol)) : null,
          (entry.tags || []).map((tag) => h("span", { class: "tag", testid: "journal-entry-tag" }, `#${tag}`)),
          entry.actor && entry.actor !== "api" ? h("span", { class: "muted small" }, `by ${entry.actor}`) : null,
          h("span", { class: "spacer" }),
          edit, remove),
        h("p", { class: "entry-body", testid: "journal-entry-body" }, String(entry.body ?? "")),
        entry.plan ? h("p", { class: "entry-rationale muted", testid: "journal-entry-plan" },
          `Plan: ${entry.plan.side ?? ""} ${entry.plan.symbol ?? ""} entry ${entry.plan.entry ?? "—"} stop ${entry.plan.stop ?? "—"}`
          + `${(entry.plan.targets || []).length ? ` targets ${entry.plan.targets.join(", ")}` : ""}`) : null,
        entry.rationale ? h("p", { class: "entry-rationale muted", testid: "journal-entry-rationale" },
          `Why: ${String(entry.rationale)}`) : null);
      return row;
    }

    function editRow(row, entry) {
      const id = `journal-edit-${entry.id}`;
      const area = h("textarea", { id, rows: "3", testid: "journal-edit-body" });
      area.value = String(entry.body ?? "");
      const error = h("p", { class: "field-error", role: "alert", hidden: true });
      const save = h("button", { type: "submit", class: "btn primary small", testid: "journal-edit-save" }, "Save");
      const cancel = h("button", { type: "button", class: "btn ghost small" }, "Cancel");
      const editor = h("form", { class: "entry-editor", novalidate: true, "aria-label": "Edit entry" },
        h("label", { for: id }, "Edit entry"), area, error, h("div", { class: "form-row end" }, cancel, save));
      cancel.addEventListener("click", () => editor.replaceWith(entryRow(entry)));
      editor.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          const updated = await api(`/journal/${encodeURIComponent(entry.id)}`, { method: "PATCH",
            body: { body: area.value } });
          editor.replaceWith(entryRow(updated));
        } catch (err) {
          error.hidden = false;
          error.textContent = fieldErrors(err).body || err.message;
        }
      });
      row.replaceWith(editor);
      area.focus();
    }

    async function exportAs(format) {
      try {
        const url = new URL("/api/v1/journal/export", location.origin);
        url.searchParams.set("format", format);
        for (const [name, value] of Object.entries(query)) if (value) url.searchParams.set(name, value);
        const response = await fetch(url, { headers: { "X-API-Key": keyStore.get() || "" } });
        if (!response.ok) throw new Error(`export failed with HTTP ${response.status}`);
        const link = h("a", { href: URL.createObjectURL(await response.blob()),
          download: `journal-${new Date().toISOString().slice(0, 10)}.${format}` });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(link.href), 1000);
      } catch (error) {
        showListError(error);
      }
    }

    function showListError(error) {
      listError.hidden = !error;
      listError.textContent = error ? error.message : "";
    }

    async function load({ reset }) {
      if (loading) return;
      loading = true;
      more.disabled = true;
      try {
        const page = await api("/journal", { query: { ...query, limit: JOURNAL_PAGE, cursor: reset ? null : cursor } });
        if (reset) list.replaceChildren();
        for (const entry of page.items || []) list.append(entryRow(entry));
        cursor = page.next_cursor || null;
        more.hidden = !cursor;
        empty.hidden = list.children.length > 0;
        showListError(null);
      } catch (error) {
        showListError(error);
      } finally {
        loading = false;
        more.disabled = false;
      }
    }

    function clearErrors() {
      for (const { error } of Object.values(fields)) { error.hidden = true; error.textContent = ""; }
      formError.hidden = true;
      formError.textContent = "";
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors();
      const draft = {
        kind: kind.control.value,
        body: text.control.value,
        tags: tags.control.value.split(",").map((t) => t.trim()).filter(Boolean),
      };
      if (symbol.control.value.trim()) draft.symbol = symbol.control.value.trim();
      if (attached) Object.assign(draft, attached);
      submit.disabled = true;
      try {
        const entry = await api("/journal", { method: "POST", body: draft });
        const matches = (!query.kind || query.kind === entry.kind) && (!query.symbol || query.symbol === entry.symbol);
        if (matches) list.prepend(entryRow(entry));
        empty.hidden = list.children.length > 0;
        text.control.value = "";
        tags.control.value = "";
        setAttached(null, "");
        text.control.focus();
      } catch (error) {
        const byField = fieldErrors(error);
        let shown = false;
        for (const [name, message] of Object.entries(byField)) {
          if (!fields[name]) continue;
          fields[name].error.textContent = message;
          fields[name].error.hidden = false;
          fields[name].control.setAttribute("aria-invalid", "true");
          shown = true;
        }
        if (!shown || Object.keys(byField).some((name) => !fields[name])) {
          formError.textContent = error.message;
          formError.hidden = false;
        }
      } finally {
        submit.disabled = false;
      }
    });
    for (const { control } of Object.values(fields)) {
      control.addEventListener("input", () => control.removeAttribute("aria-invalid"));
    }
    text.control.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
    });

    filters.addEventListener("submit", (event) => {
      event.preventDefault();
      query = { symbol: filterSymbol.value.trim().toUpperCase(), kind: filterKind.value };
      load({ reset: true });
    });
    more.addEventListener("click", () => load({ reset: false }));
    refreshButton.addEventListener("click", () => load({ reset: true }));
    listen("ui:session", () => load({ reset: true }));
  },
});

