// Languages: every string a user sees comes from one message catalogue per language (web/i18n/<code>.json),
// and every date, number, size and duration is formatted by Intl in the chosen language.
//
// The language is the one chosen in Settings (per device, localStorage 'sonantica.lang'), else the
// first of the browser's languages that has a catalogue, else English. The catalogues the node holds
// are listed by the server in <html data-languages> (every web/i18n/*.json): another language is one file.
// This module loads the chosen catalogue (and English, the fallback) with a top-level await, so every
// module that imports it may call tr() while it is evaluated.
//
// Keys are literal strings at the call: tr('nav.home'), trn('count.songs', n), trParts('key', {x: node});
// tests/unit/test_web_i18n.py reads them from the source and checks that every language has exactly
// the keys the code uses. A catalogue value is a string with {name} placeholders, or for trn() an object
// of plural forms (Intl.PluralRules categories: one, other, …) where {n} is the formatted count.

const STORE = 'sonantica.lang';
const html = document.documentElement;

/** The languages this node has catalogues for (codes), English first. */
export const LANGUAGES = [...new Set(['en', ...(html.dataset.languages || '').split(',').map((s) => s.trim()).filter((s) => /^[a-z]{2,3}(-[A-Za-z0-9]+)?$/.test(s))])];

/** What the user chose in Settings: a language code, or '' for the browser's language. */
export function languageChoice() {
  const c = localStorage.getItem(STORE) || '';
  return LANGUAGES.includes(c) ? c : '';
}

function browserLanguage() {
  for (const tag of navigator.languages?.length ? navigator.languages : [navigator.language || 'en']) {
    const l = String(tag).toLowerCase();
    const hit = LANGUAGES.find((c) => c.toLowerCase() === l) || LANGUAGES.find((c) => c.toLowerCase() === l.split('-')[0]);
    if (hit) return hit;
  }
  return 'en';
}

/** The language in use. */
export const lang = languageChoice() || browserLanguage();

/** Choose a language ('' = the browser's) and reload the app in it (its queue and position are kept). */
export function setLanguage(code) {
  if (code && LANGUAGES.includes(code)) localStorage.setItem(STORE, code);
  else localStorage.removeItem(STORE);
  location.reload();
}

/** A language's own name ("Español"), for the language chooser. */
export function languageName(code) {
  let name = code;
  try { name = new Intl.DisplayNames([code], { type: 'language' }).of(code) || code; } catch { /* an old browser */ }
  return trace(name.charAt(0).toLocaleUpperCase(code) + name.slice(1));
}

async function load(code) {
  try {
    const r = await fetch(new URL(`../i18n/${code}.json`, import.meta.url));
    if (r.ok) return await r.json();
    console.warn(`i18n: no catalogue for ${code} (HTTP ${r.status})`);
  } catch (err) {
    console.warn(`i18n: the ${code} catalogue did not load: ${err.message}`);
  }
  return {};
}

const [messages, fallback] = await Promise.all([load(lang), lang === 'en' ? null : load('en')]);
html.lang = lang;

// the test's record of everything this module produced (window.__sonantica.i18nTrace, set before load)
const trace = (s) => { window.__sonantica?.i18nTrace?.add(s); return s; };
/** Keys asked for that the catalogue lacks (shown in English, or as ⟦key⟧ when English lacks them too). */
export const missing = new Set();

/** The catalogue's value for key, or English's when it lacks the key (ours: false, so not traced). */
function lookup(key) {
  if (Object.hasOwn(messages, key)) return { v: messages[key], ours: true };
  if (!missing.has(key)) console.warn(`i18n: "${key}" is missing in ${lang}`);
  missing.add(key);
  return { v: fallback?.[key], ours: false };
}
const mark = (s, ours) => (ours ? trace(s) : s);

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (m, name) => (params && Object.hasOwn(params, name) ? String(params[name]) : m));
}

/** The message for key in the chosen language, its {placeholders} filled from params. */
export function tr(key, params) {
  const { v, ours } = lookup(key);
  return typeof v === 'string' ? mark(fill(v, params), ours) : `⟦${key}⟧`;
}

const plurals = new Intl.PluralRules(lang);
/** A message that depends on a count n ({n}, formatted): the catalogue gives it per plural category. */
export function trn(key, n, params) {
  const { v, ours } = lookup(key);
  if (!v || typeof v !== 'object') return `⟦${key}⟧`;
  const form = v[(ours ? plurals : new Intl.PluralRules('en')).select(n)] ?? v.other;
  return mark(fill(String(form), { ...params, n: fmtNumber(n) }), ours);
}

/**
 * A message with elements in it: [text, node, text…] for h(). params are strings or Nodes, e.g.
 * trParts('federation.invite_howto', {command: h('code', {}, 'sonantica join <code>')}).
 */
export function trParts(key, params = {}) {
  const { v, ours } = lookup(key);
  if (typeof v !== 'string') return [`⟦${key}⟧`];
  const out = [];
  let last = 0;
  for (const m of v.matchAll(/\{(\w+)\}/g)) {
    if (!Object.hasOwn(params, m[1])) continue;
    if (m.index > last) out.push(mark(v.slice(last, m.index), ours));
    out.push(params[m[1]]);
    last = m.index + m[0].length;
  }
  if (last < v.length) out.push(mark(v.slice(last), ours));
  return out;
}

// -- formatting with Intl in the chosen language ----------------------------------------------------------
const cache = new Map();
function intl(kind, options = {}) {
  const id = kind + JSON.stringify(options);
  if (!cache.has(id)) cache.set(id, new Intl[kind](lang, options));
  return cache.get(id);
}

/** 12,345 / 12.345 */
export function fmtNumber(n, options) {
  return trace(intl('NumberFormat', options).format(Number(n) || 0));
}

/** A Date from seconds or milliseconds since the epoch (the node sends both), an ISO string or a Date. */
export function toDate(ts) {
  if (ts instanceof Date) return ts;
  if (typeof ts === 'number') return new Date(ts < 1e12 ? ts * 1000 : ts);
  return new Date(ts);
}

/** 2 Dec 2026 / 2 dic 2026 */
export function fmtDate(ts, options = { dateStyle: 'medium' }) {
  const d = toDate(ts);
  if (Number.isNaN(d.getTime())) return String(ts ?? ''); // not a date: as the node sent it
  if (typeof ts === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(ts)) options = { ...options, timeZone: 'UTC' }; // a day, not an instant
  return trace(intl('DateTimeFormat', options).format(d));
}

/** The short name of a weekday, 0 = Monday (as the node counts them). */
export function fmtWeekday(i) {
  return fmtDate(new Date(Date.UTC(2024, 0, 1 + i)), { weekday: 'short', timeZone: 'UTC' }); // 1 Jan 2024 was a Monday
}

/** 2 Dec 2026, 14:05 */
export function fmtDateTime(ts) {
  return fmtDate(ts, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "now", "5 minutes ago", "3 hours ago"; the date past a day. */
export function fmtAgo(ts) {
  const s = Math.max(0, (Date.now() - toDate(ts).getTime()) / 1000);
  const rel = intl('RelativeTimeFormat', { numeric: 'auto', style: 'short' });
  if (s < 45) return trace(rel.format(0, 'second'));
  if (s < 3600) return trace(rel.format(-Math.round(s / 60), 'minute'));
  if (s < 86400) return trace(rel.format(-Math.round(s / 3600), 'hour'));
  return fmtDate(ts);
}

const unit = (u, n, digits = 0) => intl('NumberFormat', { style: 'unit', unit: u, unitDisplay: 'short', maximumFractionDigits: digits }).format(n);

/** A length for people: "1 hr 5 min", "42 min". */
export function fmtDuration(sec) {
  sec = Math.round(sec || 0);
  const hh = Math.floor(sec / 3600), m = Math.round((sec % 3600) / 60);
  return trace(hh ? `${unit('hour', hh)} ${unit('minute', m)}` : unit('minute', m));
}

/** 1.5 MB / 1,5 MB (powers of 1024, as the app always showed them). */
export function fmtBytes(n) {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'];
  const i = n ? Math.min(units.length - 1, Math.floor(Math.log(n) / Math.log(1024))) : 0;
  return trace(unit(units[i], n ? n / 1024 ** i : 0, i ? 1 : 0));
}

/** "A, B and C" / "A, B y C" */
export function fmtList(items, type = 'conjunction') {
  return trace(intl('ListFormat', { style: 'long', type }).format(items.map(String)));
}

// the page itself, before the app draws
document.querySelector('a.skip')?.replaceChildren(tr('app.skip_to_content'));
document.querySelector('.boot')?.setAttribute('aria-label', tr('app.loading'));
