// The one formatter of the dashboard: every number, price, amount of money, quantity, percent and time the UI
// shows goes through here, so the API's decimal strings ("15.000000", "6096.00") read the same everywhere
// ("15", "$6,096.00"). A missing value (null, undefined, "", NaN) is shown as an em dash, never "null".

const DASH = "—";

function toNumber(value) {
  if (value === null || value === undefined || value === "" || typeof value === "boolean") return null;
  const number = typeof value === "number" ? value : Number(String(value).replace(/[$,\s]/g, ""));
  return Number.isFinite(number) ? number : null;
}

const cache = new Map();
function formatter(min, max) {
  const key = `${min}:${max}`;
  if (!cache.has(key)) {
    cache.set(key, new Intl.NumberFormat("en-US", { minimumFractionDigits: min, maximumFractionDigits: max }));
  }
  return cache.get(key);
}

function sign(number, signed) {
  if (number < 0) return "-";
  return signed && number > 0 ? "+" : "";
}

/** A plain number with up to `dp` decimals and thousands separators: 1234.5 -> "1,234.5". */
export function num(value, dp = 2) {
  const number = toNumber(value);
  if (number === null) return DASH;
  return formatter(0, dp).format(number);
}

/** Exactly `dp` decimals (greeks, spreads): 0.52 -> "0.520" with dp 3. */
export function fixed(value, dp = 2) {
  const number = toNumber(value);
  if (number === null) return DASH;
  return formatter(dp, dp).format(number);
}

/** A quantity (shares, contracts): no trailing zeros. "15.000000" -> "15", "0.5" -> "0.5". */
export function qty(value) {
  const number = toNumber(value);
  if (number === null) return DASH;
  return formatter(0, 4).format(number);
}

/** A price: two decimals, up to four for sub-dollar prices. "190.5" -> "190.50", "0.0523" -> "0.0523". */
export function price(value) {
  const number = toNumber(value);
  if (number === null) return DASH;
  return formatter(2, Math.abs(number) < 1 ? 4 : 2).format(number);
}

/** Money in dollars: "6096.00" -> "$6,096.00", "-12.6" -> "-$12.60"; `signed` adds "+" to gains. */
export function money(value, { signed = false } = {}) {
  const number = toNumber(value);
  if (number === null) return DASH;
  return `${sign(number, signed)}$${formatter(2, 2).format(Math.abs(number))}`;
}

/** A percent given in percent units: 12.345 -> "12.3%"; `signed` adds "+" to gains. */
export function pct(value, { dp = 1, signed = false } = {}) {
  const number = toNumber(value);
  if (number === null) return DASH;
  return `${sign(number, signed)}${formatter(0, dp).format(Math.abs(number))}%`;
}

/** A share of one (0.52) as a percent ("52%"). */
export function share(value) {
  const number = toNumber(value);
  return number === null ? DASH : pct(number * 100, { dp: 0 });
}

/** A number with its sign: 1.5 -> "+1.5". */
export function signed(value, dp = 2) {
  const number = toNumber(value);
  if (number === null) return DASH;
  return `${sign(number, true)}${formatter(0, dp).format(Math.abs(number))}`;
}

/** An R multiple: 1.25 -> "1.25R". */
export function rMultiple(value) {
  const number = toNumber(value);
  return number === null ? DASH : `${signed(number, 2)}R`;
}

/** Milliseconds as "850 ms" or "1.2 s". */
export function duration(ms) {
  const number = toNumber(ms);
  if (number === null) return DASH;
  return number >= 1000 ? `${formatter(0, 1).format(number / 1000)} s` : `${Math.round(number)} ms`;
}

function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Clock time (24 h) of an ISO timestamp or epoch seconds. */
export function time(value) {
  const date = toDate(value);
  return date ? date.toLocaleTimeString("en-GB", { hour12: false }) : DASH;
}

/** Clock time today, else date and time. */
export function dateTime(value) {
  const date = toDate(value);
  if (!date) return DASH;
  if (new Date().toDateString() === date.toDateString()) return time(value);
  return `${date.toLocaleDateString("en-CA")} ${time(value)}`;
}

/** "just now", "42s ago", "3m ago", "2h ago" from an age in milliseconds. */
export function age(ms) {
  const number = toNumber(ms);
  if (number === null) return DASH;
  const sec = Math.max(0, number / 1000);
  if (sec < 1) return "just now";
  if (sec < 90) return `${Math.round(sec)}s ago`;
  if (sec < 5400) return `${Math.round(sec / 60)}m ago`;
  return `${Math.round(sec / 3600)}h ago`;
}

/** snake_case / kebab-case identifiers as words: "daily_loss" -> "daily loss". */
export function words(value) {
  if (value === null || value === undefined || value === "") return DASH;
  return String(value).replace(/[_-]+/g, " ");
}
