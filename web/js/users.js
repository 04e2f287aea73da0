// People (Settings, for admins and the owner): which music folders each listener sees, and which
// folders new accounts get. The owner and admins always see every folder; "Every folder" also gives
// the folders that appear later (a new member of the federation, a new library folder).
import { api } from './api.js';
import { tr } from './i18n.js';
import { h, toast } from './ui.js';

const EVERY = 'every';
const roleName = (role) => ({ owner: tr('role.owner'), admin: tr('role.admin'), listener: tr('role.listener') }[role] || role);

function folderPicker(folders, chosen, { disabled = false, label }) {
  const every = h('input', { type: 'checkbox', value: EVERY, checked: chosen === null, disabled });
  const boxes = folders.map((f) => h('input', {
    type: 'checkbox', value: String(f.id), checked: chosen === null || chosen.includes(f.id), disabled: disabled || chosen === null,
  }));
  every.addEventListener('change', () => boxes.forEach((b) => { b.disabled = disabled || every.checked; if (every.checked) b.checked = true; }));
  const el = h('fieldset', { class: 'folder-picker', 'aria-label': label },
    h('label', { class: 'check' }, every, tr('people.every_folder')),
    folders.map((f, i) => h('label', { class: 'check' }, boxes[i], f.name, f.node ? h('span', { class: 'muted small' }, ` · ${tr('people.member')}`) : null)));
  el.value = () => (every.checked ? null : boxes.filter((b) => b.checked).map((b) => Number(b.value)));
  return el;
}

async function save(path, method, folders, done) {
  try {
    await api(path, { method, body: { folders } });
    toast(done);
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
    const picker = folderPicker(folders, u.folders, { disabled: !mayEdit, label: tr('people.folders_of', { name: u.name }) });
    return h('div', { class: 'setting person', 'data-user': u.name },
      h('div', {}, h('div', { class: 'setting-label' }, u.name, ' ', h('span', { class: 'chip' }, roleName(u.role))),
        unlimited ? h('div', { class: 'muted small' }, tr('people.sees_all')) : null),
      h('div', { class: 'row' }, picker,
        mayEdit ? h('button', { type: 'button', class: 'btn small', onclick: () => save(`/users/${encodeURIComponent(u.id)}`, 'PATCH', picker.value(), tr('people.saved_folders', { name: u.name })) }, tr('people.save')) : null));
  });
  const defaultPicker = folderPicker(folders, defaults, { disabled: !owner, label: tr('people.new_accounts_folders') });
  return h('section', { class: 'panel', id: 'people', 'aria-label': tr('people.title') }, h('h2', {}, tr('people.title')),
    h('p', { class: 'muted small' }, tr('people.intro')),
    ...rows,
    h('div', { class: 'setting person', 'data-user': '' },
      h('div', {}, h('div', { class: 'setting-label' }, tr('people.new_accounts')), h('div', { class: 'muted small' }, owner ? tr('people.chosen_by_you') : tr('people.chosen_by_owner'))),
      h('div', { class: 'row' }, defaultPicker,
        owner ? h('button', { type: 'button', class: 'btn small', onclick: () => save('/user-defaults', 'PUT', defaultPicker.value(), tr('people.saved_defaults')) }, tr('people.save')) : null)));
}
