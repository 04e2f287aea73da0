// The smart playlist editor: rule rows (field, condition, value), match all/any, sort, limit, with a
// live preview. The node validates rules; when it refuses them, each rule is tried alone to point at
// the one(s) at fault.

import { api, ApiError } from './api.js';
import { confirmDialog, debounce, h, icon, iconButton, plural, toast } from './ui.js';
import { trackList } from './views.js';
import { BY_KIND, FIELDS, OPERATORS, kindOf } from './rules.js';

const enc = encodeURIComponent;
const app = () => window.__sonantica.app;
const PREVIEW_ROWS = 100;
const MAX_LIMIT = 20000;

// -- one rule row ---------------------------------------------------------------------------------
let rowSeq = 0; // for element ids only; rules are named by their place ("Rule 2: value"), see number()

/**
 * A row for a simple rule {op: {field: value}}; a nested group is kept as it is (shown, removable).
 * row.rule() → the rule; row.mark(message) shows the node's refusal on it; row.number(k) names it.
 */
function ruleRow(rule, onChange, onRemove) {
  const [op0, body0] = Object.entries(rule || {})[0] || ['is', { genre: '' }];
  if (op0 === 'all' || op0 === 'any') {
    const remove = iconButton('close', 'Remove this group', () => onRemove(row), { class: 'rule-remove' });
    const row = h('li', { class: 'rule nested' },
      h('span', { class: 'muted' }, `A nested group: ${op0} of ${plural(body0.length, 'rule')} (kept as it is)`), remove);
    row.rule = () => rule;
    row.mark = () => {};
    row.number = (k) => { remove.setAttribute('aria-label', `Remove rule ${k} (a group)`); remove.title = remove.getAttribute('aria-label'); };
    return row;
  }
  const [field0, value0] = Object.entries(body0 || {})[0] || ['genre', ''];
  let k = 0;
  const field = h('select', { class: 'select' }, Object.entries(FIELDS).map(([f, [label]]) => h('option', { value: f }, label)));
  field.value = FIELDS[field0] ? field0 : 'title';
  const op = h('select', { class: 'select' });
  const valueHost = h('span', { class: 'rule-value' });
  const error = h('span', { class: 'rule-error', id: `rule-error-${++rowSeq}`, role: 'status' });
  const remove = iconButton('close', 'Remove rule', () => onRemove(row), { class: 'rule-remove' });
  let inputs = [];

  const fillOps = (keep) => {
    const ops = BY_KIND[kindOf(field.value)];
    op.replaceChildren(...ops.map((o) => h('option', { value: o }, OPERATORS[o])));
    op.value = ops.includes(keep) ? keep : ops[0];
  };
  const makeInputs = (value) => {
    const kind = kindOf(field.value), o = op.value;
    const one = (v) => {
      if (kind === 'bool') {
        const sel = h('select', { class: 'select' }, h('option', { value: 'true' }, 'yes'), h('option', { value: 'false' }, 'no'));
        sel.value = String(v !== false && v !== 'false');
        return sel;
      }
      const type = o === 'inTheLast' || o === 'notInTheLast' || kind === 'number' ? 'number' : kind === 'time' ? 'date' : 'text';
      return h('input', { class: 'input', type, value: v ?? '', step: type === 'number' ? 'any' : null, autocomplete: 'off' });
    };
    inputs = o === 'inTheRange'
      ? [one(Array.isArray(value) ? value[0] : ''), one(Array.isArray(value) ? value[1] : '')]
      : [one(Array.isArray(value) ? value[0] : value)];
    for (const i of inputs) {
      i.setAttribute('aria-describedby', error.id);
      i.addEventListener('input', onChange);
      i.addEventListener('change', onChange);
    }
    valueHost.replaceChildren(...(inputs.length === 2 ? [inputs[0], h('span', { class: 'muted' }, 'and'), inputs[1]] : inputs));
    row?.number(k);
  };
  let row = null;
  fillOps(op0);
  makeInputs(value0);
  field.addEventListener('change', () => { fillOps(op.value); makeInputs(''); onChange(); });
  op.addEventListener('change', () => { makeInputs(inputs.length === 2 ? inputs.map((i) => i.value) : inputs[0]?.value); onChange(); });

  row = h('li', { class: 'rule' }, field, op, valueHost, remove, error);
  const typed = (input) => {
    if (kindOf(field.value) === 'bool') return input.value === 'true';
    if (input.type === 'number') return input.value === '' ? input.value : Number(input.value);
    return input.value;
  };
  row.rule = () => ({ [op.value]: { [field.value]: inputs.length === 2 ? inputs.map(typed) : typed(inputs[0]) } });
  row.mark = (message) => {
    error.textContent = message || '';
    row.classList.toggle('invalid', !!message);
    for (const i of inputs) i.toggleAttribute('aria-invalid', !!message);
  };
  row.number = (n) => {
    k = n;
    field.setAttribute('aria-label', `Rule ${k}: field`);
    op.setAttribute('aria-label', `Rule ${k}: condition`);
    inputs.forEach((i, j) => i.setAttribute('aria-label', `Rule ${k}: ${inputs.length === 2 ? ['from', 'to'][j] : 'value'}`));
    remove.setAttribute('aria-label', `Remove rule ${k}`);
    remove.title = `Remove rule ${k}`;
  };
  return row;
}

// -- the editor page ------------------------------------------------------------------------------
/** /playlists/smart (new) and /playlists/smart/{id} (edit). */
export async function smartEditor(ctx, id) {
  const existing = id ? await api(`/smart-playlists/${enc(id)}`, { signal: ctx.signal }) : null;
  const rules = existing?.rules || { all: [{ is: { genre: '' } }], sort: 'title' };
  const title = existing ? 'Edit smart playlist' : 'New smart playlist';

  const name = h('input', { class: 'input', name: 'name', required: true, autocomplete: 'off', value: existing?.name || '' });
  const match = h('select', { class: 'select', name: 'match', 'aria-label': 'Match' },
    h('option', { value: 'all' }, 'all of these rules'), h('option', { value: 'any' }, 'any of these rules'));
  match.value = rules.any ? 'any' : 'all';
  const list = h('ol', { class: 'rules', 'aria-label': 'Rules' });
  const sortField = h('select', { class: 'select', name: 'sort', 'aria-label': 'Sort by' },
    h('option', { value: 'random' }, 'Random'), Object.entries(FIELDS).map(([k, [label]]) => h('option', { value: k }, label)));
  const sortDir = h('select', { class: 'select', name: 'order', 'aria-label': 'Sort order' },
    h('option', { value: 'asc' }, 'ascending'), h('option', { value: 'desc' }, 'descending'));
  const sort = String(rules.sort || 'title');
  sortField.value = sort === 'random' ? 'random' : sort.replace(/^[-+]/, '');
  sortDir.value = sort.startsWith('-') || String(rules.order || '').toLowerCase() === 'desc' ? 'desc' : 'asc';
  const limit = h('input', { class: 'input', type: 'number', name: 'limit', min: 1, max: MAX_LIMIT, step: 1, value: rules.limit ?? '', placeholder: 'no limit', autocomplete: 'off' });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'smart-error' });
  const count = h('span', { class: 'chip', 'aria-live': 'polite' });
  const preview = h('div', { class: 'smart-preview' });
  const save = h('button', { type: 'submit', class: 'btn primary' }, existing ? 'Save' : 'Create');

  const current = () => {
    const out = { [match.value]: [...list.children].map((r) => r.rule()) };
    out.sort = sortField.value === 'random' ? 'random' : (sortDir.value === 'desc' ? '-' : '') + sortField.value;
    if (limit.value !== '') out.limit = Number(limit.value);
    return out;
  };
  let abort = null;
  const refresh = async () => {
    abort?.abort();
    abort = new AbortController();
    const rs = current();
    try {
      const r = await api('/smart-playlists/preview', { method: 'POST', body: { rules: rs }, signal: abort.signal });
      showError(null);
      preview.classList.remove('stale');
      count.textContent = plural(r.tracks.length, 'song');
      preview.replaceChildren(r.tracks.length
        ? trackList(r.tracks.slice(0, PREVIEW_ROWS), { covers: true, label: 'Songs that match' })
        : h('p', { class: 'muted empty-note' }, 'No song matches these rules yet.'),
      r.tracks.length > PREVIEW_ROWS ? h('p', { class: 'muted small' }, `and ${r.tracks.length - PREVIEW_ROWS} more`) : '');
    } catch (e) {
      if (e.name === 'AbortError') return;
      await showError(e, rs);
    }
  };
  const onChange = debounce(refresh, 300);
  /** The node's message, and each rule it refuses on its own marked in place. */
  const showError = async (e, rs) => {
    for (const r of list.children) r.mark(null);
    error.textContent = e ? e.message : '';
    if (!e) return;
    count.textContent = '';
    preview.classList.add('stale'); // what it shows no longer follows the rules
    if (!(e instanceof ApiError) || e.status !== 400) return;
    const rows = [...list.children];
    const verdicts = await Promise.all(rows.map((r) => api('/smart-playlists/preview', { method: 'POST', body: { rules: { all: [r.rule()], limit: 1 } } })
      .then(() => null, (x) => (x.status === 400 ? x.message : null))));
    if (JSON.stringify(current()) !== JSON.stringify(rs)) return; // edited meanwhile
    rows.forEach((r, i) => r.mark(verdicts[i]));
  };
  const renumber = () => [...list.children].forEach((r, i) => r.number(i + 1));
  const add = (rule) => {
    const row = ruleRow(rule, onChange, (r) => { r.remove(); renumber(); onChange(); (list.querySelector('select') || addBtn).focus(); });
    list.append(row);
    renumber();
    return row;
  };
  for (const r of rules[match.value] || []) add(r);
  for (const el of [match, sortField, sortDir, limit]) { el.addEventListener('change', onChange); el.addEventListener('input', onChange); }
  const addBtn = h('button', { type: 'button', class: 'btn small' }, icon('plus', 16), 'Add rule');
  addBtn.addEventListener('click', () => { add({ is: { genre: '' } }).querySelector('select').focus(); onChange(); });

  const form = h('form', { class: 'panel smart-form', 'aria-labelledby': 'smart-title', novalidate: true },
    h('label', { class: 'field' }, h('span', {}, 'Name'), name),
    h('div', { class: 'row' }, h('span', { class: 'muted' }, 'Songs that match'), match),
    list,
    h('div', { class: 'row' }, addBtn),
    h('div', { class: 'row smart-sort' },
      h('label', { class: 'row' }, h('span', { class: 'muted' }, 'Sort by'), sortField, sortDir),
      h('label', { class: 'row' }, h('span', { class: 'muted' }, 'Limit to'), limit, h('span', { class: 'muted' }, 'songs'))),
    error,
    h('div', { class: 'row end' },
      existing ? h('button', { type: 'button', class: 'btn ghost danger-text', onclick: () => remove() }, icon('trash', 18), 'Delete') : null,
      h('a', { href: existing ? `/playlist/${enc(existing.id)}` : '/playlists', class: 'btn ghost' }, 'Cancel'), save));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!name.value.trim()) { error.textContent = 'Give the playlist a name.'; name.focus(); return; }
    save.disabled = true;
    const rs = current();
    try {
      const body = { name: name.value.trim(), rules: rs };
      const p = existing
        ? await api(`/smart-playlists/${enc(existing.id)}`, { method: 'PUT', body })
        : await api('/smart-playlists', { method: 'POST', body });
      toast(existing ? 'Smart playlist saved' : `Created “${p.name}”`);
      app().refreshPlaylists();
      app().navigate(`/playlist/${enc(p.id)}`);
    } catch (ex) {
      await showError(ex, rs);
      save.disabled = false;
    }
  });
  const remove = async () => {
    if (!await confirmDialog(`Delete “${existing.name}”?`, 'The smart playlist and its rules go; the songs stay in the library.', { ok: 'Delete', danger: true })) return;
    try {
      await api(`/playlists/${enc(existing.id)}`, { method: 'DELETE' });
      toast('Smart playlist deleted');
      app().refreshPlaylists();
      app().navigate('/playlists');
    } catch (ex) { toast(ex.message, { error: true }); }
  };

  refresh();
  ctx.onLeave(() => abort?.abort());
  return h('div', { class: 'page', dataset: { title } },
    h('div', { class: 'page-head' }, h('div', {}, h('div', { class: 'eyebrow' }, 'Smart playlist'), h('h1', { id: 'smart-title' }, title),
      h('p', { class: 'muted' }, 'Rules pick the songs, and the playlist follows your library and your listening.'))),
    h('div', { class: 'smart-grid' }, form,
      h('section', { class: 'panel', 'aria-label': 'Preview' }, h('div', { class: 'row between' }, h('h2', {}, 'Preview'), count), preview)));
}
