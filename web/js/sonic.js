// Sonic radio and sonic paths: songs that sound like a song, and a smooth road between two songs,
// from the analysis' sonic vectors (members' songs included); see specs/api.md "Sonic similarity".
// Both replace the queue and play at once, as "Start radio" does.

import { api, has, qs } from './api.js';
import { player } from './player.js';
import { debounce, fmtTime, h, icon, toast } from './ui.js';
import { tr } from './i18n.js';

const enc = encodeURIComponent;
const RADIO_SIZE = 30;
const PATH_SIZE = 12;

/** Whether this node computes sonic similarity (the menus offer the two actions). */
export const canSonic = () => has('/api/v1/tracks/{id}/sonic/similar') && has('/api/v1/tracks/{id}/sonic/path');

/** The two song actions for menus (none when the node lacks them). */
export function sonicItems(t) {
  if (!canSonic()) return [];
  return [
    { label: tr('sonic.radio'), icon: 'radio', action: () => sonicRadio(t) },
    { label: tr('sonic.path_to'), icon: 'next', action: () => pathDialog(t) },
  ];
}

function explain(e) {
  toast(e.code === 'not_analysed' ? tr('sonic.not_analysed') : e.message, { error: true });
}

/** The song, then the songs nearest to it in sound. */
export async function sonicRadio(t) {
  try {
    const { items } = await api(`/tracks/${enc(t.id)}/sonic/similar${qs({ count: RADIO_SIZE })}`);
    if (!items.length) return toast(tr('sonic.nothing'));
    player.playList([t, ...items.map((x) => x.track)], 0);
    toast(tr('sonic.radio_started', { title: t.title }));
  } catch (e) { explain(e); }
}

/** A path of songs from ``from`` to ``to``, both included. */
export async function playPath(from, to) {
  try {
    const { items } = await api(`/tracks/${enc(from.id)}/sonic/path${qs({ to: to.id, count: PATH_SIZE })}`);
    player.playList(items.map((x) => x.track), 0);
    toast(tr('sonic.path_started', { from: from.title, to: to.title }));
  } catch (e) { explain(e); }
}

/** Ask for the destination song (search as you type), then play the path to it. */
export function pathDialog(from) {
  const input = h('input', { type: 'search', name: 'q', autocomplete: 'off', 'aria-label': tr('sonic.search'),
    placeholder: tr('sonic.search') });
  const results = h('div', { class: 'choice-list', role: 'list' });
  const dlg = h('dialog', { class: 'dialog', 'aria-label': tr('sonic.path_title', { title: from.title }) },
    h('h2', {}, tr('sonic.path_title', { title: from.title })),
    h('label', { class: 'field' }, h('span', {}, tr('sonic.search')), input),
    results,
    h('div', { class: 'row end' }, h('button', { type: 'button', class: 'btn ghost', onclick: () => dlg.close() },
      tr('dialog.cancel'))));
  let asked = 0;
  const search = debounce(async () => {
    const q = input.value.trim();
    const mine = ++asked;
    if (!q) { results.replaceChildren(); return; }
    try {
      const found = await api(`/search${qs({ q, limit: 20 })}`);
      if (mine !== asked || !dlg.open) return;
      const tracks = (found.tracks || []).filter((x) => x.id !== from.id);
      results.replaceChildren(...(tracks.length ? tracks.map((to) => h('button', {
        type: 'button', class: 'choice', role: 'listitem', onclick: () => { dlg.close(); playPath(from, to); },
      }, icon('next'), to.title, h('span', { class: 'muted' }, [to.artist, fmtTime(to.duration)].filter(Boolean).join(' · '))))
        : [h('p', { class: 'muted' }, tr('sonic.no_match'))]));
    } catch (e) { if (mine === asked) toast(e.message, { error: true }); }
  }, 200);
  input.addEventListener('input', search);
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  input.focus();
}
