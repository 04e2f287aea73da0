// Internet radio: the stations the node's admins added, and for admins the form to add, change, picture
// and remove them. A station plays in an <audio> of its own, outside the player's queue and its Web Audio
// graph: a live stream has no end to seek to, and one from another origin could only pass through Web
// Audio with CORS headers few stations send. Playing a station pauses the queue, and the other way round.

import { api } from './api.js';
import { player } from './player.js';
import { confirmDialog, cover, h, icon, toast } from './ui.js';
import { tr } from './i18n.js';

const audio = new Audio();
audio.preload = 'none';
audio.hidden = true;
document.body.append(audio);

export const radio = Object.assign(new EventTarget(), { audio, station: null });
window.__sonantica = Object.assign(window.__sonantica || {}, { radio });

function changed() { radio.dispatchEvent(new Event('change')); }

export function playStation(station) {
  player.pause();
  radio.station = station;
  audio.src = station.play_url;
  audio.volume = player.settings.muted ? 0 : player.settings.volume ** 2;
  audio.play().catch((err) => { if (err.name !== 'AbortError') toast(tr('radio.blocked'), { error: true }); });
  changed();
}

export function stopStation() {
  if (!radio.station) return;
  audio.pause();
  audio.removeAttribute('src');
  audio.load();
  radio.station = null;
  changed();
}

audio.addEventListener('error', () => {
  if (!radio.station || !audio.getAttribute('src')) return;
  // added since this page loaded: its address is not in the page's CSP yet
  const fresh = radio.station.changed_at * 1000 > performance.timeOrigin && radio.station.play_url === radio.station.stream_url;
  toast(fresh ? tr('radio.reload_to_play', { name: radio.station.name }) : tr('radio.cannot_play', { name: radio.station.name }), { error: true });
  stopStation();
});
player.addEventListener('state', () => { if (player.playing) stopStation(); });

/** The Radio page. */
export async function radioView(ctx, user) {
  const admin = ['owner', 'admin'].includes(user.role);
  const list = h('ul', { class: 'station-list', 'aria-label': tr('radio.title') });
  const host = h('div');
  let direct = true; // players fetch the streams themselves (no relay)
  const render = async () => {
    const { items, proxied } = await api('/stations', { signal: ctx.signal });
    direct = !proxied;
    list.replaceChildren(...items.map((s) => stationRow(s, admin, render, () => direct)));
    host.replaceChildren(items.length ? list : h('div', { class: 'empty' }, h('p', { class: 'muted' }, admin ? tr('radio.none_admin') : tr('radio.none'))));
  };
  const onChange = () => list.querySelectorAll('.station-row').forEach((row) => {
    const on = row.dataset.id === radio.station?.id;
    row.classList.toggle('playing', on);
    const btn = row.querySelector('.play-station');
    btn.replaceChildren(icon(on ? 'pause' : 'play', 18), on ? tr('radio.stop') : tr('radio.play'));
  });
  radio.addEventListener('change', onChange);
  ctx.onLeave(() => radio.removeEventListener('change', onChange));
  await render();
  onChange();
  const add = admin ? h('button', { type: 'button', class: 'btn primary', onclick: () => stationForm(null, render, direct) }, icon('plus', 18), tr('radio.add')) : null;
  return h('div', { class: 'page radio-page', dataset: { title: tr('radio.title') } },
    h('header', { class: 'page-header' }, h('h1', {}, tr('radio.title')), add), host);
}

function stationRow(s, admin, refresh, direct) {
  const play = h('button', { type: 'button', class: 'btn play-station', onclick: () => (radio.station?.id === s.id ? stopStation() : playStation(s)) });
  const home = s.homepage_url ? h('a', { href: s.homepage_url, target: '_blank', rel: 'noopener noreferrer' }, tr('radio.homepage')) : null;
  return h('li', { class: 'station-row', dataset: { id: s.id } },
    cover(s.cover_url, { size: 96, seed: s.id, alt: '' }),
    h('div', { class: 'station-what' }, h('strong', {}, s.name), h('div', { class: 'muted small' }, home)),
    play,
    admin ? h('button', { type: 'button', class: 'btn small', onclick: () => stationForm(s, refresh, direct()) }, tr('radio.edit')) : null,
    admin ? h('button', { type: 'button', class: 'btn small danger', onclick: async () => {
      if (!await confirmDialog(tr('radio.remove_title', { name: s.name }), null, { ok: tr('radio.remove'), danger: true })) return;
      if (radio.station?.id === s.id) stopStation();
      try { await api(`/stations/${encodeURIComponent(s.id)}`, { method: 'DELETE' }); await refresh(); } catch (err) { toast(err.message, { error: true }); }
    } }, tr('radio.remove')) : null);
}

/**
 * Add (``s`` null) or change a station, with its picture. Played directly (no relay), a station's stream
 * origin must be in the page's Content-Security-Policy, which the node wrote when the page loaded: the
 * page reloads after a save so that the new address plays.
 */
function stationForm(s, done, direct) {
  const name = h('input', { name: 'name', required: true, maxlength: 200, value: s?.name || '', autocomplete: 'off' });
  const url = h('input', { name: 'stream_url', type: 'url', required: true, value: s?.stream_url || '', placeholder: 'https://…' });
  const home = h('input', { name: 'homepage_url', type: 'url', value: s?.homepage_url || '', placeholder: 'https://…' });
  const picture = h('input', { name: 'picture', type: 'file', accept: 'image/jpeg,image/png,image/webp' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const save = h('button', { type: 'submit', class: 'btn primary' }, tr('dialog.save'));
  const form = h('form', {},
    h('h2', {}, s ? tr('radio.edit_title') : tr('radio.add')),
    h('label', { class: 'field' }, h('span', {}, tr('radio.name')), name),
    h('label', { class: 'field' }, h('span', {}, tr('radio.stream_url')), url),
    h('label', { class: 'field' }, h('span', {}, tr('radio.homepage_url')), home),
    h('label', { class: 'field' }, h('span', {}, tr('radio.picture')), picture),
    error,
    h('div', { class: 'row end' }, h('button', { type: 'button', class: 'btn ghost', onclick: () => dlg.close() }, tr('dialog.cancel')), save));
  const dlg = h('dialog', { class: 'dialog station-dialog', 'aria-label': s ? tr('radio.edit_title') : tr('radio.add') }, form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    save.disabled = true;
    error.textContent = '';
    try {
      const body = { name: name.value.trim(), stream_url: url.value.trim(), homepage_url: home.value.trim() };
      const saved = await api(s ? `/stations/${encodeURIComponent(s.id)}` : '/stations', { method: s ? 'PATCH' : 'POST', body });
      const file = picture.files[0];
      if (file) await api(`/stations/${encodeURIComponent(saved.id)}/cover`, { method: 'PUT', body: file });
      dlg.close();
      if (direct && (!s || s.stream_url !== saved.stream_url)) return location.reload();
      await done();
    } catch (err) {
      error.textContent = err.message;
      save.disabled = false;
    }
  });
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  name.focus();
}
