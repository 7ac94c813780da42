// Quick actions on the dashboard: one tap to the things a trader does most (plan a trade on the chart, set an
// alert, manage positions, ask the coach, write in the journal). Plain links to the pages: deep-linkable.

import { registerPanel } from "/static/app.js";

const ACTIONS = [
  ["#/chart", "Plan a trade", "quick-plan"],
  ["#/alerts", "New alert", "quick-alert"],
  ["#/orders", "Positions & orders", "quick-orders"],
  ["#/coach", "Ask the coach", "quick-coach"],
  ["#/journal", "Journal note", "quick-journal"],
];

registerPanel({
  id: "quick",
  title: "Quick actions",
  page: "dashboard",
  order: 3,
  mount(body, { h, setChildren }) {
    setChildren(body, h("ul", { class: "quick-actions", testid: "quick-actions" },
      ACTIONS.map(([href, label, testid]) => h("li", {}, h("a", { class: "btn", href, testid }, label)))));
  },
});
