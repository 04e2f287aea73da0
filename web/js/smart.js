// The smart playlist editor: rule rows (field, condition, value), match all/any, sort, limit, with a
// live preview. The node validates rules; when it refuses them, each rule is tried alone to point at
// the one(s) at fault. Opening a playlist and saving it changes nothing the editor was not asked to
// change: rules it cannot show are kept as they are, untouched rules, sort and limit are sent back as
// they came (aliases, case and all), and keys it does not know ride along.

import { api, ApiError } from './api.js';
import { confirmDialog, debounce, h, icon, iconButton, toast } from './ui.js';
import { fmtNumber, tr, trn } from './i18n.js';
import { trackList } from './views.js';
import { ACCEPTS, BY_KIND, DEFAULT_LIMIT, FIELDS, MAX_LIMIT, OPERATORS, fieldOf, kindOf } from './rules.js';

const enc = encodeURIComponent;
const app = () => window.__sonantica.app;
const PREVIEW_ROWS = 100;
const PREVIEW_COUNT = 1000; // the preview counts songs up to this many ("more than 1000 songs")

// -- one rule row ---------------------------------------------------------------------------------
let rowSeq = 0; // for element ids only; rules are named by their place ("Rule 2: value"), see number()

const pyTruthy = (v) => !(v === false || v === 0 || v === '' || v == null
  || (Array.isArray(v) && !v.length) || (typeof v === 'object' && !Array.isArray(v) && !Object.keys(v).length));

/** The value input a kind and operator take: yes/no, number (inTheLast: days; is on a date: its timestamp), date, text. */
const inputType = (kind, o) => {
  if (kind === 'bool' && (o === 'is' || o === 'isNot')) return 'bool';
  if (o === 'inTheLast' || o === 'notInTheLast' || kind === 'number' || kind === 'bool') return 'number';
  if (kind === 'time') return o === 'is' || o === 'isNot' ? 'number' : 'date';
  return 'text';
};

/**
 * A row that shows a rule as it is and gives it back unchanged: a nested group, or a rule the editor
 * cannot show in its controls (a field the node does not know, several fields in one rule, a value
 * the inputs cannot hold). Removable.
 */
function keptRow(rule, onRemove) {
  const [op, body] = Object.entries(rule && typeof rule === 'object' ? rule : {})[0] || [];
  const group = (op === 'all' || op === 'any') && Array.isArray(body) && Object.keys(rule).length === 1;
  const error = h('span', { class: 'rule-error', id: `rule-error-${++rowSeq}`, role: 'status' });
  const remove = iconButton('close', tr('smart.remove_this_rule'), () => onRemove(row), { class: 'rule-remove' });
  const row = h('li', { class: 'rule nested', 'aria-describedby': error.id },
    group
      ? h('span', { class: 'muted' }, op === 'all' ? trn('smart.nested_all', body.length) : trn('smart.nested_any', body.length))
      : h('span', { class: 'muted kept' }, tr('smart.kept') + ' ', h('code', {}, JSON.stringify(rule))),
    remove, error);
  row.rule = () => rule;
  row.mark = (message) => { error.textContent = message || ''; row.classList.toggle('invalid', !!message); };
  row.number = (k) => {
    remove.setAttribute('aria-label', group ? tr('smart.remove_group', { k }) : tr('smart.remove_rule', { k }));
    remove.title = remove.getAttribute('aria-label');
  };
  return row;
}

/**
 * A row for a simple rule {op: {field: value}} (field names as the node reads them: its aliases, any
 * case), or keptRow() when the controls cannot show the rule faithfully. A row nobody touched gives
 * its rule back as it came; once edited, as the controls say.
 * row.rule() → the rule; row.mark(message) shows the node's refusal on it; row.number(k) names it.
 */
function ruleRow(rule, onChange, onRemove) {
  const entries = rule && typeof rule === 'object' && !Array.isArray(rule) ? Object.entries(rule) : [];
  const [op0, body0] = entries[0] || [];
  const fields0 = body0 && typeof body0 === 'object' && !Array.isArray(body0) ? Object.entries(body0) : [];
  const field0 = entries.length === 1 && fields0.length === 1 ? fieldOf(fields0[0][0]) : null;
  if (!field0 || !ACCEPTS[kindOf(field0)].includes(op0)) return keptRow(rule, onRemove);
  const value0 = fields0[0][1];

  let k = 0, dirty = false;
  const field = h('select', { class: 'select' }, Object.entries(FIELDS).map(([f, [label]]) => h('option', { value: f }, label)));
  field.value = field0;
  const op = h('select', { class: 'select' });
  const valueHost = h('span', { class: 'rule-value' });
  const error = h('span', { class: 'rule-error', id: `rule-error-${++rowSeq}`, role: 'status' });
  const remove = iconButton('close', tr('smart.remove_rule_plain'), () => onRemove(row), { class: 'rule-remove' });
  const edited = () => { dirty = true; onChange(); };
  let inputs = [];

  const fillOps = (keep) => {
    const kind = kindOf(field.value);
    // the kind's usual conditions, and the rule's own when the node takes it for this kind (gt on a date…)
    const ops = [...BY_KIND[kind], ...(!BY_KIND[kind].includes(op0) && ACCEPTS[kind].includes(op0) ? [op0] : [])];
    op.replaceChildren(...ops.map((o) => h('option', { value: o }, OPERATORS[o])));
    op.value = ops.includes(keep) ? keep : ops[0];
  };
  const makeInputs = (value) => {
    const type = inputType(kindOf(field.value), op.value);
    const one = (v) => {
      if (type === 'bool') {
        const sel = h('select', { class: 'select' }, h('option', { value: 'true' }, tr('rules.yes')), h('option', { value: 'false' }, tr('rules.no')));
        sel.value = String(pyTruthy(v === undefined ? true : v)); // as the node reads it: "false" is true
        return sel;
      }
      return h('input', { class: 'input', type, value: v ?? '', step: type === 'number' ? 'any' : null, autocomplete: 'off' });
    };
    inputs = op.value === 'inTheRange'
      ? [one(Array.isArray(value) ? value[0] : ''), one(Array.isArray(value) ? value[1] : '')]
      : [one(Array.isArray(value) ? value[0] : value)];
    for (const i of inputs) {
      i.setAttribute('aria-describedby', error.id);
      i.addEventListener('input', edited);
      i.addEventListener('change', edited);
    }
    valueHost.replaceChildren(...(inputs.length === 2 ? [inputs[0], h('span', { class: 'muted' }, tr('smart.range_and')), inputs[1]] : inputs));
    row?.number(k);
  };
  const typed = (input) => {
    if (input.tagName === 'SELECT') return input.value === 'true';
    if (input.type === 'number') return input.value === '' ? input.value : Number(input.value);
    return input.value;
  };
  /** Whether the inputs show `value` as the node reads it (else the rule is kept as it is). */
  const shows = (value) => {
    const same = (input, v) => {
      if (input.tagName === 'SELECT') return true; // yes/no: any value, by its truth as the node takes it
      if (typeof v !== 'string' && typeof v !== 'number') return false;
      if (input.type === 'number') return v === '' ? input.value === '' : input.value !== '' && Number(input.value) === Number(v);
      return input.value === String(v);
    };
    if (op.value === 'inTheRange') return Array.isArray(value) && value.length === 2 && inputs.every((i, j) => same(i, value[j]));
    return !Array.isArray(value) && same(inputs[0], value);
  };
  let row = null;
  fillOps(op0);
  makeInputs(value0);
  if (!shows(value0)) return keptRow(rule, onRemove);
  field.addEventListener('change', () => { fillOps(op.value); makeInputs(undefined); edited(); });
  op.addEventListener('change', () => { makeInputs(inputs.length === 2 ? inputs.map(typed) : typed(inputs[0])); edited(); });

  row = h('li', { class: 'rule' }, field, op, valueHost, remove, error);
  row.rule = () => (dirty ? { [op.value]: { [field.value]: inputs.length === 2 ? inputs.map(typed) : typed(inputs[0]) } } : rule);
  row.mark = (message) => {
    error.textContent = message || '';
    row.classList.toggle('invalid', !!message);
    for (const i of inputs) i.toggleAttribute('aria-invalid', !!message);
  };
  row.number = (n) => {
    k = n;
    field.setAttribute('aria-label', tr('smart.rule_field', { k }));
    op.setAttribute('aria-label', tr('smart.rule_condition', { k }));
    inputs.forEach((i, j) => i.setAttribute('aria-label', inputs.length === 2 ? (j ? tr('smart.rule_to', { k }) : tr('smart.rule_from', { k })) : tr('smart.rule_value', { k })));
    remove.setAttribute('aria-label', tr('smart.remove_rule', { k }));
    remove.title = tr('smart.remove_rule', { k });
  };
  return row;
}

// -- the editor page ------------------------------------------------------------------------------
/** /playlists/smart (new) and /playlists/smart/{id} (edit). */
export async function smartEditor(ctx, id) {
  const existing = id ? await api(`/smart-playlists/${enc(id)}`, { signal: ctx.signal }) : null;
  const rules = existing?.rules || { all: [{ is: { genre: '' } }], sort: 'title', limit: MAX_LIMIT };
  const title = existing ? tr('smart.edit') : tr('smart.new');

  const name = h('input', { class: 'input', name: 'name', required: true, autocomplete: 'off', value: existing?.name || '' });
  const match = h('select', { class: 'select', name: 'match', 'aria-label': tr('smart.match') },
    h('option', { value: 'all' }, tr('smart.match_all')), h('option', { value: 'any' }, tr('smart.match_any')));
  match.value = rules.any ? 'any' : 'all';
  const list = h('ol', { class: 'rules', 'aria-label': tr('smart.rules') });
  const sortField = h('select', { class: 'select', name: 'sort', 'aria-label': tr('smart.sort_by') },
    h('option', { value: 'random' }, tr('smart.random')), Object.entries(FIELDS).map(([k, [label]]) => h('option', { value: k }, label)));
  const sortDir = h('select', { class: 'select', name: 'order', 'aria-label': tr('smart.sort_order') },
    h('option', { value: 'asc' }, tr('smart.ascending')), h('option', { value: 'desc' }, tr('smart.descending')));
  // the sort as the node reads it: "-field" or order "desc" descending, field aliases in any case
  const sort = String(rules.sort || 'title'), sortBy = sort.replace(/^[-+]+/, '');
  const random = sort.toLowerCase() === 'random';
  if (!random && !fieldOf(sortBy)) sortField.append(h('option', { value: sortBy }, sortBy)); // unknown to the node: shown as it is
  sortField.value = random ? 'random' : fieldOf(sortBy) || sortBy;
  sortDir.value = sort.startsWith('-') || String(rules.order || '').toLowerCase() === 'desc' ? 'desc' : 'asc';
  // empty: no limit, i.e. the most a playlist holds; rules without a limit get the node's default
  const limitHint = h('span', { class: 'muted small', id: 'smart-limit-hint' }, tr('smart.limit_hint', { max: fmtNumber(MAX_LIMIT) }));
  const limit = h('input', { class: 'input', type: 'number', name: 'limit', min: 1, max: MAX_LIMIT, step: 1, placeholder: tr('smart.no_limit'),
    value: rules.limit === MAX_LIMIT ? '' : rules.limit ?? DEFAULT_LIMIT, autocomplete: 'off', 'aria-describedby': limitHint.id });
  let sortEdited = false, limitEdited = false;
  const error = h('p', { class: 'form-error', role: 'alert', id: 'smart-error' });
  const count = h('span', { class: 'chip', 'aria-live': 'polite' });
  const preview = h('div', { class: 'smart-preview' });
  const save = h('button', { type: 'submit', class: 'btn primary' }, existing ? tr('dialog.save') : tr('action.create'));

  const current = () => {
    const out = { [match.value]: [...list.children].map((r) => r.rule()) };
    for (const [key, v] of Object.entries(rules)) if (!['all', 'any', 'sort', 'order', 'limit'].includes(key)) out[key] = v;
    if (sortEdited) out.sort = sortField.value === 'random' ? 'random' : (sortDir.value === 'desc' ? '-' : '') + sortField.value;
    else for (const key of ['sort', 'order']) if (Object.hasOwn(rules, key)) out[key] = rules[key];
    if (limitEdited) out.limit = limit.value === '' ? MAX_LIMIT : Number(limit.value);
    else if (Object.hasOwn(rules, 'limit')) out.limit = rules.limit;
    return out;
  };
  /** The rules to preview: past PREVIEW_COUNT songs, only whether there are more (not 20,000 songs per keystroke). */
  const previewed = (rs) => {
    const n = rs.limit ?? DEFAULT_LIMIT;
    return Number.isInteger(n) && n > PREVIEW_COUNT && n <= MAX_LIMIT ? { ...rs, limit: PREVIEW_COUNT + 1 } : rs;
  };
  let abort = null;
  const refresh = async () => {
    abort?.abort();
    abort = new AbortController();
    const rs = current();
    try {
      // half-typed rules are normal here: ask whether the node accepts them first (200 either way),
      // so the console stays clean; only rules it accepts are previewed
      const c = await api('/smart-playlists/check', { method: 'POST', body: { rules: rs }, signal: abort.signal });
      if (!c.valid) { showInvalid(c); return; }
      const r = await api('/smart-playlists/preview', { method: 'POST', body: { rules: previewed(rs) }, signal: abort.signal });
      showError(null);
      save.disabled = false;
      preview.classList.remove('stale');
      count.textContent = r.tracks.length > PREVIEW_COUNT ? trn('smart.more_than', PREVIEW_COUNT) : trn('count.songs', r.tracks.length);
      preview.replaceChildren(r.tracks.length
        ? trackList(r.tracks.slice(0, PREVIEW_ROWS), { covers: true, label: tr('smart.songs_that_match') })
        : h('p', { class: 'muted empty-note' }, tr('smart.no_match')),
      r.tracks.length > PREVIEW_ROWS ? h('p', { class: 'muted small' }, r.tracks.length > PREVIEW_COUNT
        ? trn('smart.and_over_more', PREVIEW_COUNT - PREVIEW_ROWS) : trn('smart.and_more', r.tracks.length - PREVIEW_ROWS)) : '');
    } catch (e) {
      if (e.name === 'AbortError') return;
      await showError(e);
    }
  };
  const onChange = debounce(refresh, 300);
  /** The node's message (a failed request), or nothing. */
  const showError = async (e) => {
    for (const r of list.children) r.mark(null);
    error.textContent = e ? e.message : '';
    if (!e) return;
    count.textContent = '';
    preview.classList.add('stale'); // what it shows no longer follows the rules
  };
  /** Rules the node does not accept: its message, each rule at fault marked in place, no saving. */
  const showInvalid = (c) => {
    showError({ message: c.message });
    [...list.children].forEach((r, i) => r.mark(c.rules[i] || null));
    save.disabled = true;
  };
  const renumber = () => [...list.children].forEach((r, i) => r.number(i + 1));
  const add = (rule) => {
    const row = ruleRow(rule, onChange, (r) => { r.remove(); renumber(); onChange(); (list.querySelector('select') || addBtn).focus(); });
    list.append(row);
    renumber();
    return row;
  };
  for (const r of rules[match.value] || []) add(r);
  for (const el of [match, sortField, sortDir, limit]) {
    const edited = () => { if (el === limit) limitEdited = true; else if (el !== match) sortEdited = true; onChange(); };
    el.addEventListener('change', edited);
    el.addEventListener('input', edited);
  }
  const addBtn = h('button', { type: 'button', class: 'btn small' }, icon('plus', 16), tr('smart.add_rule'));
  addBtn.addEventListener('click', () => { add({ is: { genre: '' } }).querySelector('select').focus(); onChange(); });

  const form = h('form', { class: 'panel smart-form', 'aria-labelledby': 'smart-title', novalidate: true },
    h('label', { class: 'field' }, h('span', {}, tr('dialog.name')), name),
    h('div', { class: 'row' }, h('span', { class: 'muted' }, tr('smart.songs_that_match')), match),
    list,
    h('div', { class: 'row' }, addBtn),
    h('div', { class: 'row smart-sort' },
      h('label', { class: 'row' }, h('span', { class: 'muted' }, tr('smart.sort_by')), sortField, sortDir),
      h('label', { class: 'row' }, h('span', { class: 'muted' }, tr('smart.limit_to')), limit, h('span', { class: 'muted' }, tr('smart.songs_unit'))), limitHint),
    error,
    h('div', { class: 'row end' },
      existing ? h('button', { type: 'button', class: 'btn ghost danger-text', onclick: () => remove() }, icon('trash', 18), tr('action.delete')) : null,
      h('a', { href: existing ? `/playlist/${enc(existing.id)}` : '/playlists', class: 'btn ghost' }, tr('dialog.cancel')), save));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!name.value.trim()) { error.textContent = tr('smart.needs_name'); name.focus(); return; }
    save.disabled = true;
    const rs = current();
    try {
      const body = { name: name.value.trim(), rules: rs };
      const p = existing
        ? await api(`/smart-playlists/${enc(existing.id)}`, { method: 'PUT', body })
        : await api('/smart-playlists', { method: 'POST', body });
      toast(existing ? tr('smart.saved') : tr('smart.created', { name: p.name }));
      app().refreshPlaylists();
      app().navigate(`/playlist/${enc(p.id)}`);
    } catch (ex) {
      await showError(ex);
      save.disabled = false;
      if (ex instanceof ApiError && ex.status === 400) refresh(); // say which rules, as while typing
    }
  });
  const remove = async () => {
    if (!await confirmDialog(tr('playlist.delete_title', { name: existing.name }), tr('smart.delete_text'), { ok: tr('action.delete'), danger: true })) return;
    try {
      await api(`/playlists/${enc(existing.id)}`, { method: 'DELETE' });
      toast(tr('smart.deleted'));
      app().refreshPlaylists();
      app().navigate('/playlists');
    } catch (ex) { toast(ex.message, { error: true }); }
  };

  refresh();
  ctx.onLeave(() => abort?.abort());
  return h('div', { class: 'page', dataset: { title } },
    h('div', { class: 'page-head' }, h('div', {}, h('div', { class: 'eyebrow' }, tr('smart.playlist')), h('h1', { id: 'smart-title' }, title),
      h('p', { class: 'muted' }, tr('smart.sub')))),
    h('div', { class: 'smart-grid' }, form,
      h('section', { class: 'panel', 'aria-label': tr('smart.preview') }, h('div', { class: 'row between' }, h('h2', {}, tr('smart.preview')), count), preview)));
}
