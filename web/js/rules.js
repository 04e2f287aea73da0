// Smart playlist rules (Navidrome .nsp, docs/analytics.md): the fields and conditions the node knows,
// by kind, and a one-line summary of a rule set. Pure: no DOM, no requests.

import { plural } from './ui.js';

// field → [label, kind]; kinds decide the operators and the value input
export const FIELDS = {
  title: ['Title', 'text'], artist: ['Artist', 'text'], album: ['Album', 'text'], albumartist: ['Album artist', 'text'],
  genre: ['Genre', 'text'], composer: ['Composer', 'text'], label: ['Label', 'text'], comment: ['Comment', 'text'],
  year: ['Year', 'number'], rating: ['Rating', 'number'], playcount: ['Play count', 'number'], skipcount: ['Skip count', 'number'],
  loved: ['Loved', 'bool'], lastplayed: ['Last played', 'time'], dateadded: ['Date added', 'time'],
  dateloved: ['Date loved', 'time'], datemodified: ['Date modified', 'time'],
  duration: ['Duration (seconds)', 'number'], bpm: ['BPM', 'number'], bitrate: ['Bitrate (kbps)', 'number'],
  samplerate: ['Sample rate (Hz)', 'number'], bitdepth: ['Bit depth', 'number'], tracknumber: ['Track number', 'number'],
  discnumber: ['Disc number', 'number'], filetype: ['File type', 'text'], codec: ['Codec', 'text'],
  lossless: ['Lossless', 'bool'], compilation: ['Compilation', 'bool'],
};
export const OPERATORS = {
  is: 'is', isNot: 'is not', contains: 'contains', notContains: 'does not contain', startsWith: 'starts with',
  endsWith: 'ends with', gt: 'is more than', lt: 'is less than', inTheRange: 'is between',
  inTheLast: 'in the last (days)', notInTheLast: 'not in the last (days)', before: 'is before', after: 'is after',
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
  const v = Array.isArray(value) ? value.join(' and ') : value === true ? 'yes' : value === false ? 'no' : value;
  return `${FIELDS[fieldOf(field)][0]} ${OPERATORS[op]} ${v}`;
}

/** "Genre is Jazz and Play count is more than 3 · by play count, descending · at most 50" (no limit: the
 * most a playlist holds). */
export function summary(rules) {
  if (!rules || typeof rules !== 'object') return '';
  const mode = rules.any ? 'any' : 'all';
  const parts = (rules[mode] || []).map((r) => {
    const [op, body] = Object.entries(r || {})[0] || [];
    if ((op === 'all' || op === 'any') && Array.isArray(body)) return `(${plural(body.length, 'rule')})`;
    return describe(r);
  });
  const sort = String(rules.sort || 'title');
  const out = [parts.join(mode === 'all' ? ' and ' : ' or ') || 'Every song'];
  const by = sort.replace(/^[-+]+/, ''), desc = sort.startsWith('-') || String(rules.order || '').toLowerCase() === 'desc';
  out.push(sort.toLowerCase() === 'random' ? 'random order' : `by ${(FIELDS[fieldOf(by)]?.[0] || by).toLowerCase()}${desc ? ', descending' : ''}`);
  const limit = rules.limit ?? DEFAULT_LIMIT;
  if (limit !== MAX_LIMIT) out.push(`at most ${limit}`);
  return out.join(' · ');
}
