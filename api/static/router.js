// Client-side routes: the URL hash names the page (#/dashboard, #/chart/SPY, #/alerts), so a deep link or a
// reload opens the same page. Keyboard: "g" then a letter goes to a page, "?" opens the list of shortcuts,
// Escape closes it. The page shown is announced as "ui:route" {page, params} for the panels that care.

import { $, emit, h, setChildren } from "/static/app.js";

export const PAGES = {
  dashboard: { key: "d", label: "Dashboard" },
  chart: { key: "c", label: "Chart" },
  orders: { key: "o", label: "Orders & positions" },
  alerts: { key: "a", label: "Alerts" },
  coach: { key: "k", label: "Coach" },
  journal: { key: "j", label: "Journal" },
  news: { key: "n", label: "News" },
  options: { key: "p", label: "Options" },
  settings: { key: "s", label: "Settings" },
  health: { key: "h", label: "Health" },
};
const DEFAULT_PAGE = "dashboard";
const CHORD_MS = 1500;

/** "#/chart/SPY" -> {page: "chart", params: ["SPY"]}; anything unknown is the dashboard. */
export function parseRoute(hash) {
  const parts = String(hash || "").replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const page = PAGES[parts[0]] ? parts[0] : DEFAULT_PAGE;
  return { page, params: PAGES[parts[0]] ? parts.slice(1) : [] };
}

/** Go to a page (pushes a history entry, so Back works). */
export function navigate(page, ...params) {
  const hash = `#/${[page, ...params].map(encodeURIComponent).join("/")}`;
  if (location.hash === hash) show();
  else location.hash = hash;
}

let current = null;

function show() {
  if (/^#key=/.test(location.hash)) return;  // the API key fragment: app.js takes it out first
  const route = parseRoute(location.hash);
  for (const section of document.querySelectorAll("[data-page]")) section.hidden = section.dataset.page !== route.page;
  for (const link of document.querySelectorAll("[data-route]")) {
    if (link.dataset.route === route.page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${PAGES[route.page].label} · Trading Assistant`;
  const changed = current !== route.page;
  current = route.page;
  emit({ type: "ui:route", ...route });
  if (changed && document.activeElement?.closest?.("[data-route]")) {
    document.querySelector(`[data-page="${route.page}"] .page-title`)?.focus({ preventScroll: true });
  }
}

// --- keyboard shortcuts ---------------------------------------------------------------------------------

const SHORTCUTS = [
  ...Object.entries(PAGES).map(([page, { key, label }]) => [`g ${key}`, `go to ${label}`]),
  ["?", "show this list"],
  ["Esc", "close a dialog"],
];

function typing(target) {
  return target instanceof HTMLElement
    && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

let chordUntil = 0;

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  if ($("board").hidden) return;
  if (event.key === "?") {
    event.preventDefault();
    openHelp();
    return;
  }
  if (event.key === "g") {
    chordUntil = Date.now() + CHORD_MS;
    return;
  }
  if (Date.now() < chordUntil) {
    chordUntil = 0;
    const page = Object.keys(PAGES).find((name) => PAGES[name].key === event.key);
    if (page) {
      event.preventDefault();
      navigate(page);
    }
  }
}

function openHelp() {
  const dialog = $("help-dialog");
  setChildren($("help-shortcuts"), SHORTCUTS.map(([keys, what]) => [h("dt", {}, h("kbd", {}, keys)), h("dd", {}, what)]));
  if (!dialog.open) dialog.showModal();
  $("help-close").focus();
}

function boot() {
  for (const section of document.querySelectorAll("[data-page] .page-title")) section.tabIndex = -1;
  window.addEventListener("hashchange", show);
  document.addEventListener("keydown", onKey);
  $("help-open").addEventListener("click", openHelp);
  $("help-close").addEventListener("click", () => $("help-dialog").close());
  show();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
