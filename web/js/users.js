// People (Settings, for admins and the owner): which music folders each listener sees, and which
// folders new accounts get. The owner and admins always see every folder; "Every folder" also gives
// the folders that appear later (a new member of the federation, a new library folder).
import { api } from './api.js';
import { h, toast } from './ui.js';

const EVERY = 'every';

function folderPicker(folders, chosen, { disabled = false, label }) {
  const every = h('input', { type: 'checkbox', value: EVERY, checked: chosen === null, disabled });
  const boxes = folders.map((f) => h('input', {
    type: 'checkbox', value: String(f.id), checked: chosen === null || chosen.includes(f.id), disabled: disabled || chosen === null,
  }));
  every.addEventListener('change', () => boxes.forEach((b) => { b.disabled = disabled || every.checked; if (every.checked) b.checked = true; }));
  const el = h('fieldset', { class: 'folder-picker', 'aria-label': label },
    h('label', { class: 'check' }, every, 'Every folder'),
    folders.map((f, i) => h('label', { class: 'check' }, boxes[i], f.name, f.node ? h('span', { class: 'muted small' }, ' · member') : null)));
  el.value = () => (every.checked ? null : boxes.filter((b) => b.checked).map((b) => Number(b.value)));
  return el;
}

async function save(path, method, folders, what) {
  try {
    await api(path, { method, body: { folders } });
    toast(`Saved ${what}`);
  } catch (err) {
    toast(err.message, { error: true });
  }
}

export async function peoplePanel(me) {
  const owner = me.role === 'owner';
  const [{ users }, { items: folders }, { folders: defaults }] = await Promise.all([
    api('/users'), api('/folders'), api('/user-defaults')]);
  const rows = users.map((u) => {
    const unlimited = u.role === 'owner' || u.role === 'admin';
    const mayEdit = u.role !== 'owner' && (owner || u.role === 'listener');
    const picker = folderPicker(folders, u.folders, { disabled: !mayEdit, label: `Music folders of ${u.name}` });
    return h('div', { class: 'setting person', 'data-user': u.name },
      h('div', {}, h('div', { class: 'setting-label' }, u.name, ' ', h('span', { class: 'chip' }, u.role)),
        unlimited ? h('div', { class: 'muted small' }, 'Sees every folder while an admin or the owner.') : null),
      h('div', { class: 'row' }, picker,
        mayEdit ? h('button', { type: 'button', class: 'btn small', onclick: () => save(`/users/${encodeURIComponent(u.id)}`, 'PATCH', picker.value(), `${u.name}’s folders`) }, 'Save') : null));
  });
  const defaultPicker = folderPicker(folders, defaults, { disabled: !owner, label: 'Music folders of new accounts' });
  return h('section', { class: 'panel', id: 'people', 'aria-label': 'People' }, h('h2', {}, 'People'),
    h('p', { class: 'muted small' }, 'Choose the music folders each listener sees: everything else stays hidden from them (browsing, search, streams, stats).'),
    ...rows,
    h('div', { class: 'setting person', 'data-user': '' },
      h('div', {}, h('div', { class: 'setting-label' }, 'New accounts get'), h('div', { class: 'muted small' }, owner ? 'Chosen by you, the owner.' : 'Chosen by the owner.')),
      h('div', { class: 'row' }, defaultPicker,
        owner ? h('button', { type: 'button', class: 'btn small', onclick: () => save('/user-defaults', 'PUT', defaultPicker.value(), 'the default folders') }, 'Save') : null)));
}
