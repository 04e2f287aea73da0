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
export const kindOf = (field) => FIELDS[field]?.[1] || 'text';

/** "Genre is Jazz and Play count is more than 3 · by play count, descending · at most 50". */
export function summary(rules) {
  if (!rules || typeof rules !== 'object') return '';
  const mode = rules.any ? 'any' : 'all';
  const parts = (rules[mode] || []).map((r) => {
    const [op, body] = Object.entries(r)[0] || [];
    if (op === 'all' || op === 'any') return `(${plural(body.length, 'rule')})`;
    const [field, value] = Object.entries(body || {})[0] || [];
    const v = Array.isArray(value) ? value.join(' and ') : value === true ? 'yes' : value === false ? 'no' : value;
    return `${FIELDS[field]?.[0] || field} ${OPERATORS[op] || op} ${v}`;
  });
  const sort = String(rules.sort || 'title');
  const out = [parts.join(mode === 'all' ? ' and ' : ' or ') || 'Every song'];
  out.push(sort === 'random' ? 'random order' : `by ${(FIELDS[sort.replace(/^[-+]/, '')]?.[0] || sort).toLowerCase()}${sort.startsWith('-') ? ', descending' : ''}`);
  if (rules.limit) out.push(`at most ${rules.limit}`);
  return out.join(' · ');
}
