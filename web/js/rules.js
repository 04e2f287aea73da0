// Smart playlist rules (Navidrome .nsp, docs/analytics.md): the fields and conditions the node knows,
// by kind, and a one-line summary of a rule set, in the app's language. No DOM, no requests of its own.

import { tr, trn } from './i18n.js';

// field → [label, kind]; kinds decide the operators and the value input
export const FIELDS = {
  title: [tr('field.title'), 'text'], artist: [tr('field.artist'), 'text'], album: [tr('field.album'), 'text'], albumartist: [tr('field.albumartist'), 'text'],
  genre: [tr('field.genre'), 'text'], composer: [tr('field.composer'), 'text'], label: [tr('field.label'), 'text'], comment: [tr('field.comment'), 'text'],
  year: [tr('field.year'), 'number'], rating: [tr('field.rating'), 'number'], playcount: [tr('field.playcount'), 'number'], skipcount: [tr('field.skipcount'), 'number'],
  loved: [tr('field.loved'), 'bool'], lastplayed: [tr('field.lastplayed'), 'time'], dateadded: [tr('field.dateadded'), 'time'],
  dateloved: [tr('field.dateloved'), 'time'], datemodified: [tr('field.datemodified'), 'time'],
  duration: [tr('field.duration'), 'number'], bpm: [tr('field.bpm'), 'number'], bitrate: [tr('field.bitrate'), 'number'],
  samplerate: [tr('field.samplerate'), 'number'], bitdepth: [tr('field.bitdepth'), 'number'], tracknumber: [tr('field.tracknumber'), 'number'],
  discnumber: [tr('field.discnumber'), 'number'], filetype: [tr('field.filetype'), 'text'], codec: [tr('field.codec'), 'text'],
  lossless: [tr('field.lossless'), 'bool'], compilation: [tr('field.compilation'), 'bool'],
};
export const OPERATORS = {
  is: tr('op.is'), isNot: tr('op.is_not'), contains: tr('op.contains'), notContains: tr('op.not_contains'), startsWith: tr('op.starts_with'),
  endsWith: tr('op.ends_with'), gt: tr('op.gt'), lt: tr('op.lt'), inTheRange: tr('op.in_the_range'),
  inTheLast: tr('op.in_the_last'), notInTheLast: tr('op.not_in_the_last'), before: tr('op.before'), after: tr('op.after'),
};
export const BY_KIND = {
  text: ['is', 'isNot', 'contains', 'notContains', 'startsWith', 'endsWith'],
  number: ['is', 'isNot', 'gt', 'lt', 'inTheRange'],
  bool: ['is', 'isNot'],
  time: ['inTheLast', 'notInTheLast', 'before', 'after', 'inTheRange'],
};
// the node's other names for fields (node/analytics/playlists.py ALIASES); names are matched in any case
export const ALIASES = {
  starred: 'loved', plays: 'playcount', date_added: 'dateadded', albumartists: 'albumartist',
  datestarred: 'dateloved', lastplayedat: 'lastplayed', tempo: 'bpm',
};
// what the node accepts for each kind: every operator, but inTheLast/notInTheLast only on dates. The
// editor offers BY_KIND for new rules; a rule with another operator the node accepts for its field's
// kind (gt on a date, is on a date's timestamp) gets that operator added to its row's choices.
const ALL_OPS = Object.keys(OPERATORS);
export const ACCEPTS = {
  text: ALL_OPS.filter((o) => o !== 'inTheLast' && o !== 'notInTheLast'),
  number: ALL_OPS.filter((o) => o !== 'inTheLast' && o !== 'notInTheLast'),
  bool: ALL_OPS.filter((o) => o !== 'inTheLast' && o !== 'notInTheLast'),
  time: ALL_OPS,
};
export const DEFAULT_LIMIT = 1000; // the node's, when rules have no limit
export const MAX_LIMIT = 20000; // the most a playlist holds (node/store/playlists.py MAX_ITEMS)

/** The field a name means to the node (aliases, any case), or null when the node does not know it. */
export function fieldOf(name) {
  const key = String(name).toLowerCase();
  const f = ALIASES[key] || key;
  return Object.hasOwn(FIELDS, f) ? f : null;
}
export const kindOf = (field) => FIELDS[fieldOf(field)]?.[1] || 'text';

/** "Genre is Jazz"; a rule the editor cannot name this way as its JSON. */
export function describe(rule) {
  const [op, body] = Object.entries(rule || {})[0] || [];
  const entries = body && typeof body === 'object' && !Array.isArray(body) ? Object.entries(body) : [];
  if (Object.keys(rule || {}).length !== 1 || entries.length !== 1 || !fieldOf(entries[0][0]) || !OPERATORS[op]) return JSON.stringify(rule);
  const [field, value] = entries[0];
  const v = Array.isArray(value) ? value.reduce((a, b) => tr('rules.and', { a, b })) : value === true ? tr('rules.yes') : value === false ? tr('rules.no') : value;
  return tr('rules.rule', { field: FIELDS[fieldOf(field)][0], op: OPERATORS[op], value: v });
}

/** "Genre is Jazz and Play count is more than 3 · by play count, descending · at most 50" (no limit: the
 * most a playlist holds). */
export function summary(rules) {
  if (!rules || typeof rules !== 'object') return '';
  const mode = rules.any ? 'any' : 'all';
  const parts = (rules[mode] || []).map((r) => {
    const [op, body] = Object.entries(r || {})[0] || [];
    if ((op === 'all' || op === 'any') && Array.isArray(body)) return trn('rules.group', body.length);
    return describe(r);
  });
  const sort = String(rules.sort || 'title');
  const out = [parts.length ? parts.reduce((a, b) => (mode === 'all' ? tr('rules.and', { a, b }) : tr('rules.or', { a, b }))) : tr('rules.every_song')];
  const by = sort.replace(/^[-+]+/, ''), desc = sort.startsWith('-') || String(rules.order || '').toLowerCase() === 'desc';
  const field = (FIELDS[fieldOf(by)]?.[0] || by).toLowerCase();
  out.push(sort.toLowerCase() === 'random' ? tr('rules.random_order') : desc ? tr('rules.by_desc', { field }) : tr('rules.by', { field }));
  const limit = rules.limit ?? DEFAULT_LIMIT;
  if (limit !== MAX_LIMIT) out.push(tr('rules.at_most', { n: limit }));
  return out.join(' · ');
}
