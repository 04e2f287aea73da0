// The pages of the app. Each view is `async (ctx, ...params) => Element`; ctx.signal aborts when the
// user navigates away, ctx.onLeave(fn) cleans up.

import { api, has, optional, qs } from './api.js';
import { EQ_BANDS, EQ_PRESETS, EQ_PRESET_NAMES, QUALITIES, facts, player } from './player.js';
import * as offline from './offline.js';
import { confirmDialog, copyText, cover, debounce, fmtBytes, fmtDuration, fmtTime, h, icon, iconButton, openMenu, prompt, repeatLabel, toast } from './ui.js';
import * as fed from './federation.js';
import { PagedSource, virtualList } from './vlist.js';
import { summary } from './rules.js';
import * as i18n from './i18n.js';
import { fmtAgo, fmtDate, fmtDateTime, fmtList, fmtNumber, fmtWeekday, languageName, tr, trn, trParts } from './i18n.js';
import { shareItem } from './sharing.js';
import { sonicItems } from './sonic.js';

const enc = encodeURIComponent;
let appRef = null;
const app = () => (appRef ||= window.__sonantica.app);
const go = (href) => app().navigate(href);

function page(title, ...children) {
  return h('div', { class: 'page', dataset: { title } }, ...children);
}

function header(title, { sub, actions, eyebrow } = {}) {
  return h('div', { class: 'page-head' },
    h('div', {}, eyebrow ? h('div', { class: 'eyebrow' }, eyebrow) : null, h('h1', {}, title), sub ? h('p', { class: 'muted' }, sub) : null),
    actions ? h('div', { class: 'row' }, actions) : null);
}

export function errorView(err) {
  const offlineErr = err.status === 0 || err.code === 'offline' || err.status === 503;
  return page(tr('error.title'), h('div', { class: 'empty' },
    h('h1', {}, offlineErr ? tr('error.offline_title') : err.status === 404 ? tr('error.not_found') : tr('error.something_wrong')),
    h('p', { class: 'muted' }, offlineErr ? tr('error.offline_text') : err.message),
    h('div', { class: 'row center' }, h('a', { href: offlineErr ? '/downloads' : '/', class: 'btn primary' }, offlineErr ? tr('error.open_downloads') : tr('error.go_home')))));
}

export async function notFound() {
  return errorView({ status: 404, message: tr('error.no_page') });
}

// -- shared pieces ---------------------------------------------------------------------------
function albumCard(a, { eager = false, defer = false } = {}) {
  const playBtn = iconButton('play', tr('action.play_name', { name: a.name }), async (e) => {
    e.preventDefault();
    e.stopPropagation();
    const full = await api(`/albums/${enc(a.id)}`);
    player.playList(full.tracks, 0);
  }, { class: 'card-play', size: 22 });
  const c = cover(a.cover_url, { size: 300, seed: a.id, alt: '', defer });
  if (eager) c.querySelector('img')?.setAttribute('loading', 'eager');
  return h('a', { href: `/album/${enc(a.id)}`, class: 'card', 'aria-label': tr('album.by', { album: a.name, artist: a.artist || tr('artist.unknown') }) },
    h('div', { class: 'card-art' }, c, playBtn),
    h('div', { class: 'card-title' }, a.name || tr('album.unknown')),
    h('div', { class: 'card-sub' }, [a.artist, a.year].filter(Boolean).join(' · ')));
}

function artistCard(a, { defer = false } = {}) {
  return h('a', { href: `/artist/${enc(a.id)}`, class: 'card artist-card', 'aria-label': a.name },
    h('div', { class: 'card-art round' }, a.cover_url ? cover(a.cover_url, { size: 300, seed: a.id, defer }) : h('div', { class: 'cover initials', style: { '--ph': hue(a.name) } }, initials(a.name))),
    h('div', { class: 'card-title' }, a.name),
    h('div', { class: 'card-sub' }, a.album_count != null ? trn('count.albums', a.album_count) : tr('artist.artist')));
}

const roleName = (role) => ({ owner: tr('role.owner'), admin: tr('role.admin'), listener: tr('role.listener') }[role] || role);
const initials = (s = '?') => s.split(/\s+/).slice(0, 2).map((w) => w[0]).join('').toUpperCase();
function hue(s = '') { let x = 0; for (const c of s) x = (x * 31 + c.charCodeAt(0)) >>> 0; return String(x % 360); }

function grid(items, render, cls = '') {
  return h('div', { class: 'grid ' + cls, role: 'list' }, items.map((i) => { const el = render(i); el.setAttribute('role', 'listitem'); return el; }));
}

function shelf(title, href, items, render) {
  if (!items?.length) return null;
  return h('section', { class: 'shelf', 'aria-label': title },
    h('div', { class: 'shelf-head' }, h('h2', {}, title), href ? h('a', { href, class: 'link' }, tr('home.see_all')) : null),
    h('div', { class: 'shelf-row' }, items.map(render)));
}

function techChips(t) {
  const chips = [];
  if (t.format) chips.push(String(t.format).toUpperCase());
  if (t.bit_depth && t.sample_rate) chips.push(tr('track.bits_khz', { bits: t.bit_depth, khz: fmtNumber(t.sample_rate / 1000, { maximumFractionDigits: 1 }) }));
  else if (t.bitrate) chips.push(tr('track.kbps', { kbps: fmtNumber(Math.round(t.bitrate / (t.bitrate > 10000 ? 1000 : 1))) }));
  return chips;
}

/** Track actions, the same from every list. */
export function trackMenu(anchor, t, extra = []) {
  openMenu(anchor, [
    { label: tr('action.play_next'), icon: 'next', action: () => { player.addNext([t]); toast(tr('toast.plays_next', { title: t.title })); } },
    { label: tr('action.add_to_queue'), icon: 'queue', action: () => { player.addToEnd([t]); toast(tr('toast.added_to_queue', { title: t.title })); } },
    { label: tr('action.add_to_playlist'), icon: 'playlist', action: () => addToPlaylist([t]) },
    'sep',
    t.album_id ? { label: tr('action.go_to_album'), icon: 'album', action: () => go(`/album/${enc(t.album_id)}`) } : null,
    t.artist_id ? { label: tr('action.go_to_artist'), icon: 'artist', action: () => go(`/artist/${enc(t.artist_id)}`) } : null,
    has('/api/v1/radio') ? { label: tr('action.start_radio'), icon: 'radio', action: () => startRadio({ track: t.id }) } : null,
    ...sonicItems(t),
    { label: t.starred ? tr('action.unstar') : tr('action.star'), icon: 'heart', action: () => toggleStar(t) },
    { label: tr('action.download_offline'), icon: 'download', action: () => offline.downloadTrack(t).then(() => toast(tr('toast.downloaded'))).catch((e) => toast(e.message, { error: true })) },
    shareItem([t.id], t.title),
    ...extra,
  ].filter(Boolean).map((x) => (x === 'sep' ? null : x)));
}

async function toggleStar(item) {
  await api(`/stars/${enc(item.id)}`, { method: item.starred ? 'DELETE' : 'PUT' });
  item.starred = item.starred ? null : new Date().toISOString();
  toast(item.starred ? tr('toast.starred') : tr('toast.unstarred'));
}

async function startRadio(params) {
  try {
    const body = Object.fromEntries(Object.entries(params).map(([k, v]) => [`${k}_id`, v]));
    const r = await api('/radio', { method: 'POST', body: { ...body, count: 30 } });
    const tracks = r.tracks || r.items || [];
    if (!tracks.length) return toast(tr('toast.no_radio'));
    player.playList(tracks.map((x) => x.track || x), 0);
    toast(tr('toast.radio_started'));
  } catch (e) { toast(e.message, { error: true }); }
}

export async function addToPlaylist(tracks) {
  const { items } = await api('/playlists');
  const mine = items.filter((p) => !p.generated && p.owner_id === app().state.user.id);
  const dlg = h('dialog', { class: 'dialog', 'aria-label': tr('playlist.add_to') });
  const choose = async (p) => {
    dlg.close();
    try {
      if (!p) {
        const name = await prompt(tr('playlist.new'), { ok: tr('action.create') });
        if (!name) return;
        p = await api('/playlists', { method: 'POST', body: { name, track_ids: tracks.map((t) => t.id) } });
        app().refreshPlaylists();
      } else {
        await api(`/playlists/${enc(p.id)}/tracks`, { method: 'POST', body: { track_ids: tracks.map((t) => t.id) } });
      }
      toast(trn('toast.added_songs_to', tracks.length, { name: p.name }));
    } catch (e) { toast(e.message, { error: true }); }
  };
  dlg.append(h('h2', {}, tr('playlist.add_to')),
    h('div', { class: 'choice-list' },
      h('button', { type: 'button', class: 'choice', onclick: () => choose(null) }, icon('plus'), tr('playlist.new_dots')),
      mine.map((p) => h('button', { type: 'button', class: 'choice', onclick: () => choose(p) }, icon('playlist'), p.name, h('span', { class: 'muted' }, trn('count.songs', p.song_count))))),
    h('div', { class: 'row end' }, h('button', { type: 'button', class: 'btn ghost', onclick: () => dlg.close() }, tr('dialog.cancel'))));
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
}

/**
 * One track row. opts as for trackList; play(i) plays from it; tag: 'li' in a list, 'div' in a virtual list
 * (which also handles ↑/↓ itself: nav false, and loads deferred covers). Enter plays it.
 */
function trackRow(t, i, opts, play, { tag = 'li', nav = true, defer = false } = {}) {
  const num = h('span', { class: 'tn' }, h('span', { class: 'n' }, opts.numbered ? t.track_no || i + 1 : i + 1), icon('play', 16));
  const more = iconButton('more', tr('track.more_actions', { title: t.title }), (e) => { e.stopPropagation(); trackMenu(more, t, opts.menuExtra?.(t, i) || []); }, { class: 'row-more' });
  const row = h(tag, {
    class: 'track', tabindex: '0', dataset: { id: t.id, index: i },
    'aria-label': t.artist ? tr('track.row_by', { title: t.title, artist: t.artist, time: fmtTime(t.duration) }) : tr('track.row', { title: t.title, time: fmtTime(t.duration) }),
  },
  opts.reorder ? h('span', { class: 'drag', 'aria-hidden': 'true', title: tr('track.drag') }, icon('drag', 18)) : null,
  h('button', { type: 'button', class: 'track-play', 'aria-label': tr('action.play_name', { name: t.title }), onclick: (e) => { e.stopPropagation(); play(i); } }, num),
  opts.covers ? cover(t.cover_url, { size: 64, seed: t.album_id, cls: 'tiny', defer }) : null,
  h('div', { class: 'tmain' },
    h('div', { class: 'ttitle' }, t.title || tr('track.unknown_title'), h('span', { class: 'offline-dot', hidden: true, title: tr('track.downloaded'), 'aria-label': tr('track.downloaded_label') })),
    h('div', { class: 'tsub' }, fed.sourceBadge(t), h('span', { class: 'tsub-text' }, [t.artist, !opts.album && t.album ? t.album : null].filter(Boolean).join(' · ')))),
  !opts.album ? h('a', { href: t.album_id ? `/album/${enc(t.album_id)}` : '#', class: 'talbum' }, t.album || '') : null,
  h('span', { class: 'tdur' }, fmtTime(t.duration)),
  opts.remove ? iconButton('close', tr('action.remove_name', { name: t.title }), (e) => { e.stopPropagation(); opts.remove(i); }, { class: 'row-more' }) : null,
  more);
  row.classList.toggle('current', t.id === player.current?.id);
  row.addEventListener('dblclick', () => play(i));
  row.addEventListener('keydown', (e) => {
    if (e.target !== row) return;
    if (e.key === 'Enter') { e.preventDefault(); play(i); }
    if (opts.reorder && e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
      e.preventDefault();
      const to = i + (e.key === 'ArrowUp' ? -1 : 1);
      if (to >= 0 && to < opts.count) opts.reorder(i, to, true);
    }
    if (!nav) return;
    if (e.key === 'ArrowDown' && !e.altKey) { e.preventDefault(); row.nextElementSibling?.focus(); }
    if (e.key === 'ArrowUp' && !e.altKey) { e.preventDefault(); row.previousElementSibling?.focus(); }
  });
  return row;
}

/**
 * A list of tracks. opts: {numbered, album (hide album column), covers, reorder(from, to), remove(i), menuExtra(t, i)}.
 * Rows are draggable when reorder is given (and Alt+↑/↓ moves the focused row).
 */
export function trackList(tracks, opts = {}) {
  const list = h('ol', { class: 'tracks' + (opts.album ? ' in-album' : ''), role: 'list', 'aria-label': opts.label || tr('nav.songs') });
  const downloaded = offline.downloadedIds();
  const playing = () => player.current?.id;
  const play = (i) => (opts.play ? opts.play(i) : player.playList(tracks, i));
  const rows = tracks.map((t, i) => {
    const row = trackRow(t, i, { ...opts, count: tracks.length }, play);
    if (opts.reorder) dragRow(row, list, opts.reorder);
    return row;
  });
  list.append(...rows);
  const mark = () => rows.forEach((r, i) => r.classList.toggle('current', tracks[i].id === playing()));
  player.addEventListener('track', mark);
  downloaded.then((ids) => rows.forEach((r, i) => { r.querySelector('.offline-dot').hidden = !ids.has(tracks[i].id); }));
  return list;
}

/**
 * Every track of a paged list, windowed: only the rows in view exist (see vlist.js). Plays from the
 * loaded tracks; marks the playing one and the downloaded ones as rows appear.
 */
function virtualTrackList(source, opts = {}) {
  let downloaded = new Set();
  const play = (i) => player.playList(source.items, i);
  const list = virtualList({
    source, columns: false, label: opts.label || tr('nav.songs'), cls: 'tracks', empty: opts.empty, onError: pageError,
    render: (t, i) => {
      const row = trackRow(t, i, opts, play, { tag: 'div', nav: false, defer: true });
      row.querySelector('.offline-dot').hidden = !downloaded.has(t.id);
      return row;
    },
    skeleton: () => h('div', { class: 'track' }, h('span', { class: 'track-play' }), opts.covers ? h('div', { class: 'cover tiny' }) : null,
      h('div', { class: 'tmain' }, h('div', { class: 'ttitle' }, '\u00a0'), h('div', { class: 'tsub' }, '\u00a0'))),
  });
  const mark = () => list.querySelectorAll('.track[data-id]').forEach((r) => r.classList.toggle('current', r.dataset.id === player.current?.id));
  player.addEventListener('track', mark);
  offline.downloadedIds().then((ids) => {
    downloaded = ids;
    list.querySelectorAll('.track[data-id]').forEach((r) => { r.querySelector('.offline-dot').hidden = !ids.has(r.dataset.id); });
  });
  const destroy = list.destroy;
  list.destroy = () => { destroy(); player.removeEventListener('track', mark); };
  return list;
}

function pageError(err) {
  toast(err.status === 0 ? tr('error.retrying') : err.message, { error: true });
}

function dragRow(row, list, reorder) {
  row.draggable = true;
  row.addEventListener('dragstart', (e) => {
    e.dataTransfer.effectAllowed = 'move';
    e.dataTransfer.setData('text/plain', row.dataset.index);
    row.classList.add('dragging');
  });
  row.addEventListener('dragend', () => { row.classList.remove('dragging'); list.querySelectorAll('.drop-before, .drop-after').forEach((r) => r.classList.remove('drop-before', 'drop-after')); });
  row.addEventListener('dragover', (e) => {
    e.preventDefault();
    e.dataTransfer.dropEffect = 'move';
    const r = row.getBoundingClientRect();
    const after = e.clientY > r.top + r.height / 2;
    list.querySelectorAll('.drop-before, .drop-after').forEach((x) => x.classList.remove('drop-before', 'drop-after'));
    row.classList.add(after ? 'drop-after' : 'drop-before');
  });
  row.addEventListener('drop', (e) => {
    e.preventDefault();
    const from = Number(e.dataTransfer.getData('text/plain'));
    const over = Number(row.dataset.index);
    const r = row.getBoundingClientRect();
    const after = e.clientY > r.top + r.height / 2;
    let to = over + (after ? 1 : 0);
    if (from < to) to--;
    row.classList.remove('drop-before', 'drop-after');
    if (Number.isInteger(from) && from !== to) reorder(from, to);
  });
}

function playButtons(getTracks, { download, more } = {}) {
  return [
    h('button', { type: 'button', class: 'btn primary', onclick: async () => player.playList(await getTracks(), 0) }, icon('play', 18), tr('player.play')),
    h('button', { type: 'button', class: 'btn', onclick: async () => player.playList(await getTracks(), 0, { shuffle: true }) }, icon('shuffle', 18), tr('player.shuffle')),
    download || null,
    more || null,
  ];
}

/** A download button with progress, saved state and removal. */
function downloadButton(kind, id, start) {
  const btn = h('button', { type: 'button', class: 'btn dl-btn' });
  const render = async () => {
    const p = offline.progressOf(kind, id);
    if (p) {
      btn.disabled = true;
      btn.replaceChildren(h('span', { class: 'ring', style: { '--p': String(p.total ? p.done / p.total : 0) }, 'aria-hidden': 'true' }),
        tr('download.progress', { done: fmtNumber(p.done), total: fmtNumber(p.total) }) + (p.bytes ? ` · ${fmtBytes(p.bytes)}` : ''));
      btn.setAttribute('aria-label', trn('download.progress_label', p.total, { done: fmtNumber(p.done) }));
      return;
    }
    btn.disabled = false;
    const saved = await offline.isCollectionSaved(kind, id);
    btn.classList.toggle('saved', saved);
    btn.replaceChildren(icon(saved ? 'done' : 'download', 18), saved ? tr('track.downloaded') : tr('download.download'));
    btn.setAttribute('aria-label', saved ? tr('download.saved_label') : tr('action.download_offline'));
    btn.dataset.state = saved ? 'saved' : 'idle';
  };
  btn.addEventListener('click', async () => {
    if (btn.dataset.state === 'saved') {
      await offline.remove(kind, id);
      toast(tr('toast.removed_from_device'));
    } else {
      try { await start(); toast(tr('toast.ready_offline')); } catch (e) { toast(e.message, { error: true }); }
    }
    render();
  });
  const onChange = (e) => { if (!e.detail || (e.detail.kind === kind && e.detail.id === id)) render(); };
  offline.offlineEvents.addEventListener('change', onChange);
  render();
  return btn;
}

// -- home -----------------------------------------------------------------------------------------
export async function home(ctx) {
  const [recent, random, recs, stats] = await Promise.all([
    api(`/albums?sort=added&order=desc&limit=12`, { signal: ctx.signal }),
    api(`/albums?sort=year&order=desc&limit=12`, { signal: ctx.signal }),
    optional('/recommendations?count=8', '/api/v1/recommendations'),
    optional('/stats?period=week', '/api/v1/stats'),
  ]);
  const hour = new Date().getHours();
  const greeting = hour < 5 ? tr('home.good_night') : hour < 12 ? tr('home.good_morning') : hour < 18 ? tr('home.good_afternoon') : tr('home.good_evening');
  const recTracks = (recs?.items || []).filter((r) => r.title).map((r) => ({ ...(r.track || r), reason: r.reason || r.reasons?.[0] }));
  const node = page(tr('nav.home'),
    header(greeting, { eyebrow: app().state.user.name }),
    player.current ? h('section', { class: 'resume', 'aria-label': tr('home.continue') },
      cover(player.current.cover_url, { size: 128, seed: player.current.album_id, cls: 'small' }),
      h('div', {}, h('div', { class: 'eyebrow' }, tr('home.continue')), h('div', { class: 'resume-title' }, player.current.title), h('div', { class: 'muted' }, player.current.artist)),
      h('button', { type: 'button', class: 'btn primary', onclick: () => player.play() }, icon('play', 18), tr('home.resume'))) : null,
    shelf(tr('home.recently_added'), '/albums?sort=added', recent.items, (a) => albumCard(a)),
    recTracks.length ? h('section', { class: 'shelf', 'aria-label': tr('home.recommended') },
      h('div', { class: 'shelf-head' }, h('h2', {}, tr('home.recommended'))),
      trackList(recTracks.slice(0, 8), { covers: true, label: tr('home.recommended_songs'), menuExtra: () => [] }),
      h('p', { class: 'muted small' }, reasonText(recTracks[0]?.reason))) : null,
    stats ? h('section', { class: 'shelf' }, h('div', { class: 'shelf-head' }, h('h2', {}, tr('home.this_week')), h('a', { href: '/stats', class: 'link' }, tr('nav.stats'))),
      h('p', { class: 'muted' }, `${trn('count.minutes_listened', Math.round(stats.totals?.minutes || 0))} · ${trn('count.plays', stats.totals?.plays || 0)}`)) : null,
    shelf(tr('home.from_the_years'), '/albums?sort=year', random.items, (a) => albumCard(a)));
  if (!recent.items.length) {
    node.append(h('div', { class: 'empty' }, h('h2', {}, tr('home.empty')),
      h('p', { class: 'muted' }, tr('home.empty_hint')),
      h('a', { href: '/status', class: 'btn primary' }, tr('nav.status'))));
  }
  return node;
}

// -- albums, artists, genres, songs ------------------------------------------------------------
// Whole libraries (10k+ albums) scroll as windowed lists over keyset-paged API lists (vlist.js).

function cardSkeleton(round = false) {
  return h('div', { class: 'card' }, h('div', { class: 'card-art' + (round ? ' round' : '') }, h('div', { class: 'cover' })),
    h('div', { class: 'card-title' }, '\u00a0'), h('div', { class: 'card-sub' }, '\u00a0'));
}

/** The library's counts (local music): the expected length of a list before its last page arrives. */
async function libraryCounts(signal) {
  try { return (await api('/scan', { signal })).library || {}; } catch (e) { if (e.name === 'AbortError') throw e; return {}; }
}

/** A PagedSource over a native list endpoint, its first page loaded (and the hint fetched) before it returns. */
async function pagedSource(ctx, path, params, hint = Promise.resolve(0)) {
  const source = new PagedSource((cursor, limit) => api(path + qs({ ...params, limit, cursor }), { signal: ctx.signal }));
  [source.hint] = await Promise.all([hint.catch(() => 0), source.ensure(1)]);
  return source;
}

export async function albums(ctx, { genre, title = tr('nav.albums') } = {}) {
  const sort = ctx.params.get('sort') || 'name';
  const order = sort === 'added' || sort === 'year' ? 'desc' : 'asc';
  const hint = genre
    ? api('/genres', { signal: ctx.signal }).then((r) => r.items.find((g) => g.name === genre)?.album_count || 0)
    : libraryCounts(ctx.signal).then((c) => c.albums || 0);
  const source = await pagedSource(ctx, '/albums', { sort, order, genre }, hint);
  const list = virtualList({
    source, label: title, cls: 'albums', onError: pageError,
    render: (a, i) => albumCard(a, { eager: i < 12, defer: true }), skeleton: () => cardSkeleton(),
    empty: h('div', { class: 'empty' }, h('p', { class: 'muted' }, tr('albums.none'))),
  });
  ctx.onLeave(() => list.destroy());
  const sorter = h('select', { 'aria-label': tr('albums.sort'), class: 'select' },
    [['name', tr('albums.sort_name')], ['artist', tr('albums.sort_artist')], ['year', tr('albums.sort_year')], ['added', tr('home.recently_added')]].map(([v, l]) => h('option', { value: v, selected: v === sort }, l)));
  sorter.addEventListener('change', () => go(location.pathname + '?sort=' + sorter.value));
  return page(title, header(title, { actions: [sorter] }), list);
}

export async function genre(ctx, name) {
  return albums(ctx, { genre: name, title: name });
}

export async function artists(ctx) {
  const source = await pagedSource(ctx, '/artists', { album_artists: 1 });
  const list = virtualList({
    source, label: tr('nav.artists'), cls: 'artists', onError: pageError,
    render: (a) => artistCard(a, { defer: true }), skeleton: () => cardSkeleton(true),
    empty: h('div', { class: 'empty' }, h('p', { class: 'muted' }, tr('artists.none'))),
  });
  ctx.onLeave(() => list.destroy());
  return page(tr('nav.artists'), header(tr('nav.artists')), list);
}

export async function genres(ctx) {
  const { items } = await api('/genres', { signal: ctx.signal });
  return page(tr('nav.genres'), header(tr('nav.genres')),
    h('div', { class: 'grid genres', role: 'list' }, items.map((g) => h('a', {
      href: `/genre/${enc(g.name)}`, class: 'genre-tile', role: 'listitem', style: { '--ph': hue(g.name) },
    }, h('span', {}, g.name), h('small', {}, [g.album_count != null ? trn('count.albums', g.album_count) : null, g.song_count != null ? trn('count.songs', g.song_count) : null].filter(Boolean).join(' · '))))));
}

export async function tracks(ctx) {
  const sort = ctx.params.get('sort') || 'title';
  const folderId = ctx.params.get('folder') || '';
  let heading = tr('nav.songs'), eyebrow = null, sub = null;
  if (folderId) {
    const { items = [] } = await api('/folders', { signal: ctx.signal }).catch(() => ({}));
    const f = items.find((x) => String(x.id) === folderId);
    const member = f?.node ? (await fed.members().catch(() => ({ items: [] }))).items.find((m) => m.node_id === f.node) : null;
    heading = f ? (f.node ? tr('folder.music_from', { name: member?.name || f.name }) : f.name) : tr('folder.songs_here');
    eyebrow = f?.node ? tr('folder.member') : tr('folder.folder');
    sub = f?.node ? (member ? `${member.online ? tr('member.online') : tr('member.offline')} · ${tr('folder.streamed_from', { name: member.name || f.name })}` : null) : tr('folder.on_this_node');
  }
  const hint = folderId ? Promise.resolve(0) : libraryCounts(ctx.signal).then((c) => c.tracks || 0);
  const source = await pagedSource(ctx, '/tracks', { sort, folder: folderId }, hint);
  const list = virtualTrackList(source, {
    covers: true, label: heading,
    empty: h('div', { class: 'empty' }, h('p', { class: 'muted' }, folderId ? tr('folder.no_songs') : tr('songs.none'))),
  });
  ctx.onLeave(() => list.destroy());
  return page(heading, header(heading, { eyebrow, sub, actions: playButtons(async () => source.items) }), list);
}

export async function starred(ctx) {
  const s = await api('/stars', { signal: ctx.signal });
  return page(tr('nav.starred'), header(tr('nav.starred'), { actions: s.tracks.length ? playButtons(async () => s.tracks) : null }),
    shelf(tr('nav.albums'), null, s.albums, (a) => albumCard(a)), shelf(tr('nav.artists'), null, s.artists, artistCard),
    s.tracks.length ? h('section', { class: 'shelf' }, h('h2', {}, tr('nav.songs')), trackList(s.tracks, { covers: true })) : null,
    !s.tracks.length && !s.albums.length && !s.artists.length ? h('div', { class: 'empty' }, h('p', { class: 'muted' }, tr('starred.none'))) : null);
}

export async function album(ctx, id) {
  const a = await api(`/albums/${enc(id)}`, { signal: ctx.signal });
  const t0 = a.tracks[0] || {};
  const remote = a.tracks.length > 0 && a.tracks.every((t) => fed.sourceOf(t));
  const sources = [...new Set(a.tracks.map((t) => fed.sourceOf(t)).filter(Boolean))];
  if (remote) await fed.members().catch(() => null);
  const fromChip = remote ? h('span', { class: 'chip from-node' }, h('span', { class: 'source-dot', 'aria-hidden': 'true' }),
    fed.fromText(fmtList(sources.map((n) => fed.memberName(n) || fed.nodeName(n))))) : null;
  const pinBtn = remote ? await pinButton(a) : null;
  const discs = new Set(a.tracks.map((t) => t.disc_no || 1));
  const list = discs.size > 1
    ? [...discs].sort((x, y) => x - y).map((d) => {
      const dt = a.tracks.filter((t) => (t.disc_no || 1) === d);
      return h('section', {}, h('h3', { class: 'disc' }, tr('album.disc', { n: d })), trackList(dt, { numbered: true, album: true, play: (i) => player.playList(a.tracks, a.tracks.indexOf(dt[i])) }));
    })
    : trackList(a.tracks, { numbered: true, album: true, label: tr('album.songs_of', { name: a.name }) });
  const more = iconButton('more', tr('album.more_actions'), () => openMenu(more, [
    { label: tr('action.play_next'), icon: 'next', action: () => player.addNext(a.tracks) },
    { label: tr('action.add_to_queue'), icon: 'queue', action: () => player.addToEnd(a.tracks) },
    { label: tr('action.add_to_playlist'), icon: 'playlist', action: () => addToPlaylist(a.tracks) },
    { label: a.starred ? tr('album.unstar') : tr('album.star'), icon: 'heart', action: () => toggleStar(a) },
    shareItem([a.id], a.name),
    a.artist_id ? { label: tr('action.go_to_artist'), icon: 'artist', action: () => go(`/artist/${enc(a.artist_id)}`) } : null,
    has('/api/v1/radio') && a.artist_id ? { label: tr('artist.radio'), icon: 'radio', action: () => startRadio({ artist: a.artist_id }) } : null,
  ].filter(Boolean)), { class: 'btn-icon' });
  const hero = h('div', { class: 'hero' },
    h('div', { class: 'hero-bg', 'aria-hidden': 'true' }, a.cover_url ? h('img', { src: a.cover_url + '?size=64', alt: '' }) : null),
    cover(a.cover_url, { size: 600, seed: a.id, cls: 'hero-art', alt: tr('album.cover_of', { name: a.name }) }),
    h('div', { class: 'hero-meta' },
      h('div', { class: 'eyebrow' }, a.compilation ? tr('album.compilation') : tr('album.album')),
      h('h1', {}, a.name),
      h('p', { class: 'hero-sub' },
        a.artist_id ? h('a', { href: `/artist/${enc(a.artist_id)}`, class: 'strong' }, a.artist) : h('span', { class: 'strong' }, a.artist || ''),
        [a.year, trn('count.songs', a.tracks.length), fmtDuration(a.duration)].filter(Boolean).map((x) => h('span', {}, ' · ', x))),
      h('div', { class: 'chips' }, fromChip, techChips(t0).map((c) => h('span', { class: 'chip' }, c)), (a.genres || []).slice(0, 3).map((g) => h('a', { href: `/genre/${enc(g)}`, class: 'chip' }, g))),
      h('div', { class: 'row actions' }, playButtons(async () => a.tracks, {
        download: downloadButton('album', a.id, () => offline.download({ kind: 'album', id: a.id, name: a.name, artist: a.artist, tracks: a.tracks, cover_url: a.cover_url, page: `/albums/${enc(a.id)}` })),
        more,
      }), pinBtn)));
  return page(a.name, hero, h('div', { class: 'album-tracks' }, list));
}

/** Keep a copy (pin) of an album other members hold: admins only, when the node serves pins. */
async function pinButton(a) {
  const admin = ['owner', 'admin'].includes(app().state.user.role);
  if (!admin || !has('/api/v1/federation/pins/{album_id}') || !has('/api/v1/federation/pins')) return null;
  let pin = null;
  try { pin = ((await api('/federation/pins')).items || []).find((p) => p.id === a.id) || null; } catch { return null; }
  const btn = h('button', { type: 'button', class: 'btn pin-btn' });
  const render = () => {
    btn.classList.toggle('saved', !!pin);
    btn.replaceChildren(icon(pin ? 'done' : 'pin', 18), pin ? (pin.replicated ? tr('pin.kept') : tr('pin.copying')) : tr('pin.keep'));
    btn.setAttribute('aria-label', pin ? tr('pin.pinned_label') : tr('pin.keep_label'));
    btn.title = pin ? tr('pin.pinned_title') : tr('pin.keep_title');
    btn.dataset.state = pin ? 'pinned' : 'idle';
  };
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      await api(`/federation/pins/${enc(a.id)}`, { method: pin ? 'DELETE' : 'PUT' });
      pin = pin ? null : { id: a.id, replicated: false };
      toast(pin ? tr('pin.toast_pinned', { name: a.name }) : tr('pin.toast_unpinned', { name: a.name }));
    } catch (e) { toast(e.message, { error: true }); }
    btn.disabled = false;
    render();
  });
  render();
  return btn;
}

export async function artist(ctx, id) {
  const a = await api(`/artists/${enc(id)}`, { signal: ctx.signal });
  const all = async () => (await Promise.all(a.albums.map((al) => api(`/albums/${enc(al.id)}`)))).flatMap((x) => x.tracks);
  return page(a.name,
    h('div', { class: 'hero artist-hero' },
      h('div', { class: 'hero-art round' }, a.cover_url ? cover(a.cover_url, { size: 600, seed: a.id }) : h('div', { class: 'cover initials big', style: { '--ph': hue(a.name) } }, initials(a.name))),
      h('div', { class: 'hero-meta' }, h('div', { class: 'eyebrow' }, tr('artist.artist')), h('h1', {}, a.name),
        h('p', { class: 'muted' }, [trn('count.albums', a.albums.length), a.song_count != null ? trn('count.songs', a.song_count) : null].filter(Boolean).join(' · ')),
        h('div', { class: 'row actions' }, playButtons(all),
          has('/api/v1/radio') ? h('button', { type: 'button', class: 'btn', onclick: () => startRadio({ artist: a.id }) }, icon('radio', 18), tr('artist.radio_button')) : null))),
    a.top_tracks?.length ? h('section', { class: 'shelf' }, h('h2', {}, tr('artist.popular')), trackList(a.top_tracks.slice(0, 10), { covers: true })) : null,
    h('section', { class: 'shelf' }, h('h2', {}, tr('nav.albums')), grid(a.albums, (x) => albumCard(x), 'albums')),
    artistAbout(a.info));
}

// External metadata's progress and providers' health (GET /api/v1/metadata), or how to turn it on.
function metadataPanel(m) {
  if (!m) return null;
  if (!m.enabled) return h('div', { class: 'panel' }, h('h2', {}, tr('metadata.title')),
    h('p', { class: 'muted' }, tr('metadata.off')));
  const kinds = [['albums', tr('nav.albums')], ['artists', tr('nav.artists')], ['tracks', tr('nav.songs')]];
  return h('div', { class: 'panel', 'aria-label': tr('metadata.title') },
    h('div', { class: 'row between' }, h('h2', {}, tr('metadata.title')), h('span', { class: 'chip ' + (m.running ? 'live' : '') }, m.running ? tr('metadata.looking_up') : tr('status.idle'))),
    kinds.map(([k, label]) => h('p', { class: 'muted' }, `${label}: ${trn('metadata.progress', m[k].total, { checked: fmtNumber(m[k].checked), found: fmtNumber(m[k].found) })}`)),
    h('ul', { class: 'provider-list' }, (Array.isArray(m.providers) ? m.providers : []).map((p) =>
      h('li', { class: 'muted' }, `${p.name}: ${trn('metadata.requests', p.requests)}, ${trn('metadata.failures', p.failures)}`, p.last_error ? ` — ${tr('metadata.last_error', { error: p.last_error })}` : ''))));
}

// The biography and picture credits external metadata found (docs/metadata.md): text only, never HTML,
// with the source links the licences ask for.
function artistAbout(info) {
  if (!info || (!info.biography && !info.image_attribution)) return null;
  const link = (url, text) => (/^https?:\/\//.test(url || '') ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, text) : null);
  return h('section', { class: 'shelf artist-about' }, h('h2', {}, tr('artist.about')),
    info.biography ? h('p', { class: 'bio' }, info.biography) : null,
    info.biography ? h('p', { class: 'muted credit' }, info.biography_attribution || '', ' · ', link(info.biography_source, tr('artist.read_more'))) : null,
    info.image_attribution ? h('p', { class: 'muted credit' }, info.image_attribution, ' · ', link(info.image_source, tr('artist.source'))) : null);
}

// -- search ------------------------------------------------------------------------------------------
let searchHost = null;
let searchAbort = null;
export const searchInput = debounce((q) => runSearch(q), 120);

async function runSearch(q) {
  if (!searchHost) return;
  searchAbort?.abort();
  searchAbort = new AbortController();
  q = q.trim();
  if (!q) {
    searchHost.replaceChildren(h('div', { class: 'empty' }, h('p', { class: 'muted' }, tr('search.hint'))));
    return;
  }
  try {
    const r = await api('/search' + qs({ q, limit: 24 }), { signal: searchAbort.signal });
    const none = !r.artists.length && !r.albums.length && !r.tracks.length;
    searchHost.replaceChildren(
      none ? h('div', { class: 'empty' }, h('p', { class: 'muted' }, tr('search.nothing', { q }))) : '',
      r.tracks.length ? h('section', { class: 'shelf', 'aria-label': tr('nav.songs') }, h('h2', {}, tr('nav.songs')), trackList(r.tracks.slice(0, 10), { covers: true, label: tr('search.matching_songs') })) : '',
      shelf(tr('nav.artists'), null, r.artists, artistCard) || '',
      r.albums.length ? h('section', { class: 'shelf', 'aria-label': tr('nav.albums') }, h('h2', {}, tr('nav.albums')), grid(r.albums, (a) => albumCard(a), 'albums')) : '');
  } catch (e) {
    if (e.name !== 'AbortError') searchHost.replaceChildren(errorView(e));
  }
}

export async function search(ctx) {
  const q = ctx.params.get('q') || '';
  searchHost = h('div', { class: 'search-results', 'aria-live': 'polite' });
  const top = document.getElementById('top-search');
  ctx.onLeave(() => { searchHost = null; if (top && !location.pathname.startsWith('/search')) top.value = ''; });
  if (top && document.activeElement !== top) top.value = q;
  await runSearch(q);
  const latest = new URLSearchParams(location.search).get('q') || '';
  if (latest !== q) await runSearch(latest); // typed on while the page was loading
  if (top && document.activeElement !== top) setTimeout(() => top.focus(), 0);
  return page(tr('nav.search'), h('h1', { class: 'visually-hidden' }, tr('nav.search')), searchHost);
}

// -- playlists -------------------------------------------------------------------------------------------
export async function playlists(ctx) {
  const { items } = await api('/playlists', { signal: ctx.signal });
  const create = h('button', { type: 'button', class: 'btn primary', onclick: async () => {
    const name = await prompt(tr('playlist.new'), { ok: tr('action.create') });
    if (!name) return;
    const p = await api('/playlists', { method: 'POST', body: { name } });
    app().refreshPlaylists();
    go(`/playlist/${enc(p.id)}`);
  } }, icon('plus', 18), tr('playlist.new'));
  const file = h('input', { type: 'file', accept: '.m3u,.m3u8,.xspf,audio/x-mpegurl,application/xspf+xml', hidden: true, 'aria-label': tr('playlist.import_file') });
  file.addEventListener('change', async () => {
    const f = file.files[0];
    if (!f) return;
    try {
      const r = await api('/playlists/import' + qs({ name: f.name.replace(/\.(m3u8?|xspf)$/i, '') }), { method: 'POST', body: await f.text() });
      toast(tr('playlist.imported', { name: r.name, matched: fmtNumber(r.matched), unmatched: fmtNumber(r.unmatched) }));
      app().refreshPlaylists();
      go(`/playlist/${enc(r.id)}`);
    } catch (e) { toast(e.message, { error: true }); }
  });
  const importBtn = h('button', { type: 'button', class: 'btn', onclick: () => file.click() }, tr('playlist.import'));
  const canSmart = has('/api/v1/smart-playlists');
  const newSmart = canSmart ? h('a', { href: '/playlists/smart', class: 'btn' }, icon('plus', 18), tr('smart.new')) : null;
  const me = app().state.user;
  const mySmart = items.filter((p) => p.generated === 'smart' && p.owner_id === me.id);
  const generated = items.filter((p) => p.generated && !mySmart.includes(p));
  const own = items.filter((p) => !p.generated);
  const tile = (p) => h('a', { href: `/playlist/${enc(p.id)}`, class: 'card playlist-card', role: 'listitem', 'aria-label': p.name },
    h('div', { class: 'card-art' }, h('div', { class: 'cover playlist-art', style: { '--ph': hue(p.name) } }, icon('playlist', 40))),
    h('div', { class: 'card-title' }, p.name), h('div', { class: 'card-sub' }, `${trn('count.songs', p.song_count)} · ${p.owner}`));
  const section = (id, title, list, note) => h('section', { class: 'shelf', 'aria-labelledby': `pl-${id}` },
    h('h2', { id: `pl-${id}` }, title), note || null,
    list.length ? h('div', { class: 'grid albums', role: 'list', 'aria-label': title }, list.map(tile)) : null);
  return page(tr('nav.playlists'), header(tr('nav.playlists'), { actions: [create, newSmart, importBtn, file] }),
    own.length ? h('div', { class: 'grid albums', role: 'list', 'aria-label': tr('playlist.yours') }, own.map(tile)) : h('div', { class: 'empty' }, h('p', { class: 'muted' }, tr('playlist.none'))),
    mySmart.length || canSmart ? section('Smart-playlists', tr('smart.playlists'), mySmart, mySmart.length ? null
      : h('p', { class: 'muted' }, tr('smart.explained'))) : null,
    generated.length ? section('Made-for-you', tr('playlist.made_for_you'), generated) : null);
}

export async function playlist(ctx, id) {
  let p = await api(`/playlists/${enc(id)}`, { signal: ctx.signal });
  const smart = p.generated === 'smart' && has('/api/v1/smart-playlists/{id}');
  if (smart) p = await api(`/smart-playlists/${enc(id)}`, { signal: ctx.signal }); // evaluated now
  const me = app().state.user;
  const writable = p.owner_id === me.id && !p.generated;
  const editable = smart && p.owner_id === me.id;
  const title = h('h1', {}, p.name);
  const sub = h('p', { class: 'muted' });
  const listHost = h('div', { class: 'playlist-tracks' });
  const render = () => {
    sub.textContent = [trn('count.songs', p.tracks.length), fmtDuration(p.tracks.reduce((s, t) => s + (t.duration || 0), 0)), tr('playlist.by', { owner: p.owner })].join(' · ');
    listHost.replaceChildren(p.tracks.length ? trackList(p.tracks, {
      covers: true, label: tr('album.songs_of', { name: p.name }),
      reorder: writable ? reorder : null,
      menuExtra: writable ? (t, i) => [{ label: tr('playlist.remove_from'), icon: 'trash', action: () => removeAt(i) }] : null,
    }) : h('div', { class: 'empty' }, h('p', { class: 'muted' }, smart ? tr('smart.no_match') : tr('playlist.empty'))));
  };
  const reorder = async (from, to, keyboard) => {
    const [t] = p.tracks.splice(from, 1);
    p.tracks.splice(to, 0, t);
    render();
    if (keyboard) listHost.querySelectorAll('.track')[to]?.focus();
    try {
      await api(`/playlists/${enc(id)}/move`, { method: 'POST', body: { from, to } });
    } catch (e) {
      toast(e.message, { error: true });
      p = await api(`/playlists/${enc(id)}`);
      render();
    }
  };
  const removeAt = async (i) => {
    await api(`/playlists/${enc(id)}/tracks/${i}`, { method: 'DELETE' });
    p.tracks.splice(i, 1);
    render();
  };
  const rename = async () => {
    const name = await prompt(tr('playlist.rename_title'), { value: p.name });
    if (!name || name === p.name) return;
    await api(`/playlists/${enc(id)}`, { method: 'PATCH', body: { name } });
    p.name = name;
    title.textContent = name;
    app().refreshPlaylists();
  };
  const del = async () => {
    if (!await confirmDialog(tr('playlist.delete_title', { name: p.name }), tr('playlist.delete_text'), { ok: tr('action.delete'), danger: true })) return;
    await api(`/playlists/${enc(id)}`, { method: 'DELETE' });
    app().refreshPlaylists();
    toast(tr('playlist.deleted'));
    go('/playlists');
  };
  const more = iconButton('more', tr('playlist.more_actions'), () => openMenu(more, [
    writable ? { label: tr('playlist.rename_dots'), icon: 'settings', action: rename } : null,
    { label: tr('action.add_to_queue'), icon: 'queue', action: () => player.addToEnd(p.tracks) },
    shareItem([p.id], p.name),
    { label: tr('playlist.export'), icon: 'download', action: () => { const a = h('a', { href: `/api/v1/playlists/${enc(id)}/export?format=m3u8`, download: '' }); document.body.append(a); a.click(); a.remove(); } },
    editable ? { label: tr('smart.edit_rules_dots'), icon: 'settings', action: () => go(`/playlists/smart/${enc(id)}`) } : null,
    writable || editable || me.role === 'owner' ? { label: tr('playlist.delete'), icon: 'trash', action: del } : null,
  ].filter(Boolean)), { class: 'btn-icon' });
  render();
  return page(p.name,
    h('div', { class: 'hero playlist-hero' },
      h('div', { class: 'hero-art' }, h('div', { class: 'cover playlist-art', style: { '--ph': hue(p.name) } }, icon('playlist', 64))),
      h('div', { class: 'hero-meta' }, h('div', { class: 'eyebrow' }, smart ? tr('smart.playlist') : p.generated ? tr('playlist.generated') : tr('playlist.playlist')), title, sub,
        p.comment ? h('p', { class: 'muted' }, p.comment) : null,
        smart ? h('p', { class: 'muted smart-rules' }, summary(p.rules)) : null,
        h('div', { class: 'row actions' }, playButtons(async () => p.tracks, {
          download: downloadButton('playlist', p.id, () => offline.download({ kind: 'playlist', id: p.id, name: p.name, tracks: p.tracks, page: `/playlists/${enc(p.id)}` })),
          more,
        }), writable ? h('button', { type: 'button', class: 'btn ghost', onclick: rename }, tr('playlist.rename')) : null,
        editable ? h('a', { href: `/playlists/smart/${enc(id)}`, class: 'btn ghost' }, tr('smart.edit_rules')) : null))),
    listHost);
}

// -- queue --------------------------------------------------------------------------------------------------
export async function queue(ctx) {
  const host = h('div');
  const render = () => {
    const q = player.queue;
    const cur = player.current;
    const upNext = q.slice(player.index + 1);
    host.replaceChildren(
      cur ? h('section', { class: 'shelf' }, h('h2', {}, tr('player.now_playing')), trackList([cur], { covers: true, play: () => player.play() })) : h('div', { class: 'empty' }, h('p', { class: 'muted' }, tr('queue.empty'))),
      upNext.length ? h('section', { class: 'shelf' }, h('div', { class: 'shelf-head' }, h('h2', {}, tr('queue.up_next')), h('span', { class: 'muted' }, trn('count.songs', upNext.length))),
        trackList(upNext, {
          covers: true, label: tr('queue.up_next'),
          play: (i) => player.jump(player.index + 1 + i),
          reorder: (from, to) => player.move(player.index + 1 + from, player.index + 1 + to),
          remove: (i) => player.removeAt(player.index + 1 + i),
        })) : null);
  };
  render();
  const onQueue = () => render();
  player.addEventListener('queue', onQueue);
  player.addEventListener('track', onQueue);
  ctx.onLeave(() => { player.removeEventListener('queue', onQueue); player.removeEventListener('track', onQueue); });
  const clear = h('button', { type: 'button', class: 'btn', onclick: () => player.clear() }, icon('trash', 18), tr('queue.clear'));
  const shuffle = h('button', { type: 'button', class: 'btn', onclick: () => player.setShuffle(!player.shuffle) }, icon('shuffle', 18), tr('player.shuffle'));
  return page(tr('nav.queue'), header(tr('nav.queue'), { actions: [shuffle, clear] }), host);
}

// -- now playing -------------------------------------------------------------------------------------------
export async function nowPlaying(ctx) {
  const art = h('div', { class: 'np-art' });
  const title = h('h1', { class: 'np-title' });
  const artist = h('p', { class: 'np-artist' });
  const chips = h('div', { class: 'chips' });
  const seek = h('son-seekbar', { class: 'np-seek', label: tr('player.seek') });
  const pos = h('span', { class: 'time' }), dur = h('span', { class: 'time' });
  const lyricsBox = h('div', { class: 'lyrics', 'aria-label': tr('now.lyrics'), tabindex: '0' });
  const playBtn = h('button', { type: 'button', class: 'play-btn big', 'aria-label': tr('player.play'), onclick: () => player.toggle() }, icon('play', 30));
  seek.addEventListener('seek', (e) => player.seek(e.detail));
  let lyrics = null, lyricLines = [], lastLine = -1;

  const renderTrack = async () => {
    const t = player.current;
    art.replaceChildren(cover(t?.cover_url, { size: 600, seed: t?.album_id || 'none', alt: t ? tr('album.cover_of', { name: t.album || t.title }) : '' }));
    title.textContent = t ? t.title : tr('player.nothing_playing');
    artist.replaceChildren(t ? h('span', {}, t.artist_id ? h('a', { href: `/artist/${enc(t.artist_id)}` }, t.artist) : t.artist || '',
      t.album ? [' — ', t.album_id ? h('a', { href: `/album/${enc(t.album_id)}` }, t.album) : t.album] : '') : '');
    seek.setTrack(t);
    renderChips();
    lyricsBox.replaceChildren();
    lyrics = null;
    lastLine = -1;
    if (!t) return;
    try {
      lyrics = fed.sourceOf(t) || t.media_type === 'podcast' ? null : await api(`/tracks/${enc(t.id)}/lyrics`, { signal: ctx.signal }); // members' lyrics stay with them
    } catch { lyrics = null; }
    if (player.current?.id !== t.id) return;
    lyricLines = (lyrics?.lines || []).map((l, i) => h('p', {
      class: 'lyric' + (lyrics.synced ? ' synced' : ''), dataset: { i },
      onclick: lyrics.synced && l.start_ms != null ? () => player.seek(l.start_ms / 1000) : null,
    }, l.text || '♪'));
    lyricsBox.replaceChildren(...(lyricLines.length ? lyricLines : [h('p', { class: 'muted no-lyrics' }, tr('now.no_lyrics'))]));
  };
  const renderChips = () => {
    const t = player.current;
    if (!t) return chips.replaceChildren();
    const d = { ...t, ...(player.details.get(t.id) || {}) };
    const { bpm, key, camelot, lufs: loud, tg, ag } = facts(d);
    const rg = player.settings.replaygain === 'album' ? ag ?? tg : tg ?? ag;
    chips.replaceChildren(...[
      ...techChips(d),
      bpm ? tr('now.bpm', { bpm: fmtNumber(Math.round(bpm)) }) : null,
      key ? tr('now.key', { key }) + (camelot ? ' · ' + camelot : '') : null,
      loud != null ? tr('now.lufs', { lufs: fmtNumber(loud, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) }) : null,
      rg != null && player.settings.replaygain !== 'off' ? tr('now.rg', { db: fmtNumber(rg, { minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: 'exceptZero' }) }) : null,
    ].filter(Boolean).map((c) => h('span', { class: 'chip' }, c)), fed.sourceBadge(d, { cls: 'source-badge chip-size' }) || '');
  };
  const renderTime = () => {
    pos.textContent = fmtTime(player.position);
    dur.textContent = fmtTime(player.duration);
    if (!seek.dragging) seek.update(player.position, player.duration);
    if (lyrics?.synced && lyricLines.length) {
      const ms = player.position * 1000;
      let i = -1;
      lyrics.lines.forEach((l, k) => { if (l.start_ms != null && l.start_ms <= ms + 150) i = k; });
      if (i !== lastLine) {
        lyricLines[lastLine]?.classList.remove('active');
        lyricLines[i]?.classList.add('active');
        lastLine = i;
        const el = lyricLines[i];
        if (el) lyricsBox.scrollTo({ top: el.offsetTop - lyricsBox.clientHeight / 2 + el.clientHeight / 2, behavior: 'smooth' });
      }
    }
  };
  const shuffleBtn = iconButton('shuffle', tr('player.shuffle'), () => player.setShuffle(!player.shuffle), { class: 'toggle' });
  const repeatBtn = iconButton('repeat', tr('shortcuts.repeat'), () => player.cycleRepeat(), { class: 'toggle' });
  const renderState = () => {
    playBtn.replaceChildren(icon(player.playing ? 'pause' : 'play', 30));
    playBtn.setAttribute('aria-label', player.playing ? tr('player.pause') : tr('player.play'));
    shuffleBtn.setAttribute('aria-pressed', String(player.shuffle));
    repeatBtn.setAttribute('aria-pressed', String(player.repeat !== 'off'));
    repeatBtn.setAttribute('aria-label', repeatLabel(player.repeat));
    repeatBtn.replaceChildren(icon(player.repeat === 'one' ? 'repeat1' : 'repeat', 20));
  };
  const listeners = { track: renderTrack, time: renderTime, state: renderState, details: renderChips };
  for (const [k, fn] of Object.entries(listeners)) player.addEventListener(k, fn);
  ctx.onLeave(() => { for (const [k, fn] of Object.entries(listeners)) player.removeEventListener(k, fn); });
  renderTrack();
  renderState();
  renderTime();
  return page(tr('player.now_playing'), h('div', { class: 'now' },
    h('div', { class: 'np-left' }, art,
      h('div', { class: 'np-info' }, title, artist, chips),
      h('div', { class: 'np-progress' }, seek, h('div', { class: 'row between' }, pos, dur)),
      h('div', { class: 'np-controls' },
        shuffleBtn, iconButton('prev', tr('player.previous'), () => player.prev(), { size: 28 }), playBtn,
        iconButton('next', tr('player.next'), () => player.next(), { size: 28 }), repeatBtn)),
    h('div', { class: 'np-right' },
      h('div', { class: 'tabs', role: 'tablist' }, h('h2', {}, tr('now.lyrics'))), lyricsBox,
      h('details', { class: 'eq-details' }, h('summary', {}, icon('eq', 18), tr('eq.equaliser')), eqPanel()))));
}

// -- equaliser ------------------------------------------------------------------------------------------------
const presetName = (n) => EQ_PRESET_NAMES[n] || n;

export function eqPanel() {
  const preset = h('select', { class: 'select', 'aria-label': tr('eq.preset') },
    [...Object.keys(EQ_PRESETS), 'Custom'].map((n) => h('option', { value: n }, presetName(n))));
  const on = h('input', { type: 'checkbox', class: 'switch', 'aria-label': tr('eq.on') });
  const sliders = EQ_BANDS.map((f, i) => {
    const s = h('input', { type: 'range', min: -12, max: 12, step: 0.5, class: 'eq-slider', 'aria-label': tr('eq.band', { band: f >= 1000 ? tr('eq.khz', { f: fmtNumber(f / 1000) }) : tr('eq.hz', { f: fmtNumber(f) }) }), dataset: { band: i } });
    s.addEventListener('input', () => player.setEqBand(i, Number(s.value)));
    return s;
  });
  const values = EQ_BANDS.map(() => h('output', { class: 'eq-val' }));
  preset.addEventListener('change', () => player.setEqPreset(preset.value));
  on.addEventListener('change', () => player.setEqOn(on.checked));
  const render = () => {
    preset.value = player.settings.eqPreset in EQ_PRESETS ? player.settings.eqPreset : 'Custom';
    on.checked = player.settings.eqOn;
    sliders.forEach((s, i) => { s.value = player.settings.eq[i]; values[i].textContent = `${player.settings.eq[i] > 0 ? '+' : ''}${player.settings.eq[i]}`; });
  };
  player.addEventListener('eq', render);
  render();
  return h('div', { class: 'eq' },
    h('div', { class: 'row between' }, h('label', { class: 'row' }, on, tr('eq.equaliser')), preset),
    h('div', { class: 'eq-bands' }, EQ_BANDS.map((f, i) => h('div', { class: 'eq-band' }, values[i], sliders[i], h('span', { class: 'eq-f' }, f >= 1000 ? f / 1000 + 'k' : f)))));
}

// -- downloads ------------------------------------------------------------------------------------------------
export async function downloads(ctx) {
  const quota = h('div', { class: 'quota' });
  const list = h('div', { class: 'downloads' });
  const render = async () => {
    const e = await offline.estimate();
    quota.replaceChildren(e ? h('div', {},
      h('div', { class: 'row between' }, h('strong', {}, tr('downloads.used', { size: fmtBytes(e.usage) })), h('span', { class: 'muted' }, tr('downloads.of_quota', { size: fmtBytes(e.quota) }) + (e.persisted ? ` · ${tr('downloads.persistent')}` : ''))),
      h('div', { class: 'meter', role: 'meter', 'aria-label': tr('downloads.storage_used'), 'aria-valuemin': 0, 'aria-valuemax': e.quota, 'aria-valuenow': e.usage },
        h('span', { style: { width: `${Math.max(0.5, (100 * e.usage) / (e.quota || 1))}%` } }))) : h('p', { class: 'muted' }, tr('downloads.no_quota')));
    const items = await offline.collections();
    list.replaceChildren(...(items.length ? items.map((c) => h('div', { class: 'download-item' },
      cover(c.cover_url, { size: 64, seed: c.id, cls: 'tiny' }),
      h('div', { class: 'tmain' }, h('div', { class: 'ttitle' }, c.name), h('div', { class: 'tsub' }, [c.kind === 'album' ? tr('album.album') : c.kind === 'playlist' ? tr('playlist.playlist') : tr('downloads.song'), c.artist, trn('count.songs', c.track_ids.length)].filter(Boolean).join(' · '))),
      iconButton('play', tr('action.play_name', { name: c.name }), () => player.playList(c.tracks, 0)),
      iconButton('trash', tr('downloads.remove_name', { name: c.name }), async () => { await offline.remove(c.kind, c.id); render(); })))
      : [h('div', { class: 'empty' }, h('p', { class: 'muted' }, tr('downloads.none')))]));
  };
  await render();
  const onChange = () => render();
  offline.offlineEvents.addEventListener('change', onChange);
  ctx.onLeave(() => offline.offlineEvents.removeEventListener('change', onChange));
  const clearAll = h('button', { type: 'button', class: 'btn ghost', onclick: async () => { if (confirm(tr('downloads.remove_all_confirm'))) { await offline.removeAll(); render(); } } }, tr('downloads.remove_all'));
  return page(tr('nav.downloads'), header(tr('nav.downloads'), { sub: tr('downloads.sub'), actions: [clearAll] }), quota, list);
}

// -- settings -------------------------------------------------------------------------------------------------
export async function settings(ctx) {
  const me = app().state.user;
  const theme = h('select', { class: 'select', 'aria-label': tr('settings.theme') }, [['system', tr('settings.theme_system')], ['dark', tr('settings.theme_dark')], ['light', tr('settings.theme_light')]].map(([v, l]) => h('option', { value: v }, l)));
  theme.value = localStorage.getItem('sonantica.theme') || 'system';
  theme.addEventListener('change', async () => { localStorage.setItem('sonantica.theme', theme.value); (await import('./app.js')).applyTheme(); });
  const language = h('select', { class: 'select', name: 'language', 'aria-label': tr('settings.language') },
    h('option', { value: '' }, tr('settings.language_auto', { language: languageName(i18n.lang) })),
    i18n.LANGUAGES.map((code) => h('option', { value: code, lang: code }, languageName(code))));
  language.value = i18n.languageChoice();
  language.addEventListener('change', () => i18n.setLanguage(language.value));
  const quality = h('select', { class: 'select', 'aria-label': tr('settings.quality') }, Object.entries(QUALITIES).map(([v, q]) => h('option', { value: v }, q.label)));
  quality.value = player.settings.quality;
  quality.addEventListener('change', () => { player.settings.quality = quality.value; player.saveSettings(); toast(tr('settings.quality_next_song')); });
  const rg = h('select', { class: 'select', 'aria-label': tr('settings.replaygain_label') }, [['off', tr('settings.replaygain_off')], ['track', tr('settings.replaygain_track')], ['album', tr('settings.replaygain_album')]].map(([v, l]) => h('option', { value: v }, l)));
  rg.value = player.settings.replaygain;
  rg.addEventListener('change', () => player.setReplayGain(rg.value));
  const preamp = h('input', { type: 'range', min: -12, max: 12, step: 0.5, value: player.settings.preamp, 'aria-label': tr('settings.preamp_label') });
  const db = (v) => tr('settings.db', { db: fmtNumber(Number(v), { maximumFractionDigits: 1 }) });
  const preampOut = h('output', {}, db(player.settings.preamp));
  preamp.addEventListener('input', () => { player.setReplayGain(player.settings.replaygain, Number(preamp.value)); preampOut.textContent = db(preamp.value); });
  const { SHORTCUTS, signOut } = await import('./app.js');
  const keys = h('div', { class: 'api-keys' });
  const renderKeys = async () => {
    try {
      const { api_keys } = await api('/me/api-keys');
      keys.replaceChildren(...api_keys.map((k) => h('div', { class: 'row between key-row' }, h('span', {}, k.name, h('span', { class: 'muted' }, k.created_at ? ` · ${fmtDateTime(k.created_at)}` : '')),
        h('button', { type: 'button', class: 'btn ghost small', onclick: async () => { await api(`/me/api-keys/${enc(k.id)}`, { method: 'DELETE' }); renderKeys(); } }, tr('settings.revoke')))));
    } catch { keys.replaceChildren(); }
  };
  renderKeys();
  const newKey = h('button', { type: 'button', class: 'btn', onclick: async () => {
    const name = await prompt(tr('settings.new_api_key'), { label: tr('settings.api_key_for'), ok: tr('action.create') });
    if (!name) return;
    const r = await api('/me/api-keys', { method: 'POST', body: { name } });
    keys.prepend(h('div', { class: 'new-key' }, h('p', {}, tr('settings.copy_key_now')), h('code', { tabindex: '0' }, r.key)));
    renderKeys().then(() => keys.prepend(h('div', { class: 'new-key' }, h('p', {}, tr('settings.copy_key_now')), h('code', { tabindex: '0' }, r.key))));
  } }, icon('plus', 18), tr('settings.new_api_key'));
  const people = ['owner', 'admin'].includes(me.role) ? await (await import('./users.js')).peoplePanel(me) : null;
  const section = (title, ...body) => h('section', { class: 'panel', 'aria-label': title }, h('h2', {}, title), ...body);
  const field = (label, control, hint) => h('div', { class: 'setting' }, h('div', {}, h('div', { class: 'setting-label' }, label), hint ? h('div', { class: 'muted small' }, hint) : null), control);
  return page(tr('nav.settings'), header(tr('nav.settings')),
    h('div', { class: 'settings' },
      section(tr('settings.appearance'), field(tr('settings.theme'), theme), field(tr('settings.language'), language, tr('settings.language_hint'))),
      section(tr('settings.playback'),
        field(tr('settings.quality'), quality, tr('settings.quality_hint')),
        field(tr('settings.replaygain'), rg, tr('settings.replaygain_hint')),
        field(tr('settings.preamp'), h('div', { class: 'row' }, preamp, preampOut))),
      h('section', { class: 'panel', id: 'eq', 'aria-label': tr('eq.equaliser') }, h('h2', {}, tr('eq.equaliser')), eqPanel()),
      section(tr('settings.account'),
        field(tr('settings.signed_in_as'), h('div', { class: 'row' }, h('strong', {}, me.name), h('span', { class: 'chip' }, roleName(me.role)),
          h('button', { type: 'button', class: 'btn ghost', onclick: signOut }, icon('logout', 18), tr('settings.sign_out')))),
        field(tr('settings.api_keys'), newKey, tr('settings.api_keys_hint')), keys),
      people,
      section(tr('settings.shortcuts'), h('dl', { class: 'shortcuts' }, SHORTCUTS.map(([k, d]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, d)])))));
}

// -- node status ------------------------------------------------------------------------------------------
export async function status(ctx) {
  const admin = ['owner', 'admin'].includes(app().state.user.role);
  const box = h('div', { class: 'status-box' });
  const errorsHost = h('div');
  const render = async () => {
    const [s, meta] = await Promise.all([api('/scan', { signal: ctx.signal }), api('/metadata', { signal: ctx.signal }).catch(() => null)]);
    const live = app().state.live;
    const scanning = live.scanning || s.scanning;
    const done = live.scanning ? live.done : s.done, total = live.scanning ? live.total : s.total;
    const pct = total ? Math.round((100 * done) / total) : 0;
    const lib = s.library || {};
    box.replaceChildren(...[ // (replaceChildren, unlike h(), would show a null as the text "null")
      h('div', { class: 'stat-tiles' },
        [[tr('nav.songs'), lib.tracks], [tr('nav.albums'), lib.albums], [tr('nav.artists'), lib.artists]].map(([l, v]) => h('div', { class: 'tile' }, h('div', { class: 'tile-v' }, fmtNumber(v ?? 0)), h('div', { class: 'muted' }, l)))),
      h('div', { class: 'panel' },
        h('div', { class: 'row between' }, h('h2', {}, tr('status.scan')), h('span', { class: 'chip ' + (scanning ? 'live' : '') }, scanning ? tr('status.scanning') : tr('status.idle'))),
        h('div', { class: 'meter', role: 'progressbar', 'aria-label': tr('status.scan_progress'), 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': scanning ? pct : 100 }, h('span', { style: { width: (scanning ? pct : 100) + '%' } })),
        h('p', { class: 'muted' }, scanning ? trn('status.files_done', total, { done: fmtNumber(done) }) : s.last?.finished_at ? tr('status.last_scan', { when: fmtDateTime(s.last.finished_at) }) : tr('status.not_scanned')),
        admin ? h('div', { class: 'row' },
          h('button', { type: 'button', class: 'btn primary', disabled: scanning, onclick: () => startScan(false) }, tr('status.scan_changes')),
          h('button', { type: 'button', class: 'btn', disabled: scanning, onclick: () => startScan(true) }, tr('status.full_rescan'))) : null),
      live.analysis ? h('div', { class: 'panel' }, h('h2', {}, tr('status.analysis')),
        h('div', { class: 'meter', role: 'progressbar', 'aria-label': tr('status.analysis_progress'), 'aria-valuenow': live.analysis.done, 'aria-valuemax': live.analysis.total }, h('span', { style: { width: `${(100 * (live.analysis.done || 0)) / (live.analysis.total || 1)}%` } })),
        h('p', { class: 'muted' }, trn('status.songs_analysed', live.analysis.total ?? 0, { done: fmtNumber(live.analysis.done ?? 0) }))) : null,
      metadataPanel(meta)].filter(Boolean));
  };
  const startScan = async (full) => {
    try {
      await api('/scan', { method: 'POST', body: { full } });
    } catch (e) { toast(e.message, { error: true }); return; }
    app().state.live.scanning = true;
    toast(full ? tr('status.full_rescan_started') : tr('status.scan_started'));
    render().catch(() => {});
  };
  const renderErrors = async () => {
    if (!admin) return;
    const { items } = await api('/scan/errors', { signal: ctx.signal });
    errorsHost.replaceChildren(h('section', { class: 'panel', 'aria-label': tr('status.scan_errors') },
      h('div', { class: 'row between' }, h('h2', {}, tr('status.unreadable')), h('span', { class: 'chip' }, fmtNumber(items.length))),
      items.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, tr('status.file')), h('th', { scope: 'col' }, tr('status.reason')))),
        h('tbody', {}, items.map((e) => h('tr', {}, h('td', { class: 'mono' }, e.path), h('td', {}, e.reason))))))
        : h('p', { class: 'muted' }, tr('status.all_read'))));
  };
  await Promise.all([render(), renderErrors()]);
  // live updates redraw in the background: one that the page's leaving cuts short (or that finds the
  // node away) leaves what is shown
  const quietly = (p) => p.catch(() => {});
  const onLive = debounce(() => { quietly(render()); if (!app().state.live.scanning) quietly(renderErrors()); }, 200);
  app().live.addEventListener('change', onLive);
  ctx.onLeave(() => app().live.removeEventListener('change', onLive));
  return page(tr('nav.status'), header(tr('nav.status'), { sub: tr('status.sub') }), box, errorsHost);
}

// -- federation (lights up when the node serves /api/v1/federation/...) --------------------------------------
const TTLS = [['1h', trn('count.hours', 1)], ['24h', trn('count.hours', 24)], ['7d', trn('count.days', 7)], ['30d', trn('count.days', 30)]];

function ago(ts) {
  if (!ts) return null;
  return fmtAgo(ts);
}

function memberCard(m, { folder, owner, onRevoke }) {
  const name = m.name || fed.nodeName(m.node_id);
  const stat = (label, value, title) => h('div', { class: 'mstat', title: title || null }, h('dt', {}, label), h('dd', {}, value ?? '—'));
  const browse = m.self ? (folder ? `/tracks?folder=${enc(folder.id)}` : '/tracks') : folder ? `/tracks?folder=${enc(folder.id)}` : null;
  return h('article', { class: 'member' + (m.online ? ' is-online' : ''), dataset: { node: m.node_id }, 'aria-label': `${name}, ${m.online ? tr('member.online_lower') : tr('member.offline_lower')}` },
    h('div', { class: 'member-head' },
      h('div', { class: 'member-avatar', style: { '--ph': hue(m.node_id) }, 'aria-hidden': 'true' }, initials(name.replace(/^node\s+/i, '')) || '?',
        h('span', { class: 'presence' + (m.online ? ' on' : '') })),
      h('div', { class: 'member-id' },
        h('h3', { class: 'member-name' }, name),
        h('div', { class: 'mono muted tiny-id', title: m.node_id }, m.node_id)),
      h('span', { class: 'chip state ' + (m.online ? 'live' : 'off') }, m.online ? tr('member.online') : tr('member.offline'))),
    h('div', { class: 'member-tags' },
      m.self ? h('span', { class: 'tag self' }, tr('member.this_node')) : null,
      m.admin ? h('span', { class: 'tag' }, tr('role.admin')) : h('span', { class: 'tag' }, tr('member.member'))),
    h('dl', { class: 'member-stats' },
      stat(tr('nav.songs'), fmtNumber(m.tracks ?? 0)),
      stat(tr('member.latency'), m.self ? tr('member.local') : m.rtt_ms != null ? tr('member.ms', { ms: fmtNumber(Math.round(m.rtt_ms)) }) : null, tr('member.rtt')),
      stat(tr('member.last_seen'), m.self ? tr('member.now') : ago(m.last_seen), m.last_seen ? fmtDateTime(m.last_seen) : null),
      stat(tr('member.served'), fmtBytes(m.bytes_served || 0), m.self ? tr('member.served_self') : tr('member.served_other')),
      stat(tr('member.fetched'), fmtBytes(m.bytes_fetched || 0), m.self ? tr('member.fetched_self') : tr('member.fetched_other'))),
    h('div', { class: 'member-actions' },
      browse ? h('a', { href: browse, class: 'btn small', 'aria-label': tr('member.browse_label', { name }) }, icon('tracks', 16), tr('member.browse')) : h('span', { class: 'muted small' }, tr('member.no_music')),
      owner && !m.self ? h('button', { type: 'button', class: 'btn small ghost danger-text', onclick: () => onRevoke(m, name) }, tr('member.revoke')) : null));
}

export async function federation(ctx) {
  if (!fed.available()) {
    return page(tr('nav.federation'), header(tr('nav.federation')), h('div', { class: 'empty' }, h('p', { class: 'muted' }, tr('federation.unavailable'))));
  }
  const role = app().state.user.role;
  const owner = role === 'owner', admin = owner || role === 'admin';
  const membersHost = h('div', { class: 'members', role: 'list', 'aria-label': tr('federation.members') });
  const tiles = h('div', { class: 'stat-tiles fed-tiles' });
  const pinsHost = h('div');
  const sub = h('p', { class: 'muted' });
  const title = h('h1', {}, tr('nav.federation'));
  const revokedHost = h('p', { class: 'muted small' });
  let r = await fed.members({ fresh: true, signal: ctx.signal });
  let folders = (await api('/folders', { signal: ctx.signal }).catch(() => ({ items: [] }))).items || [];
  const inFederation = !!r.federation_id;
  const names = new Map(); // node id → name, as seen on this page: a revoked member keeps its name here
  const remember = () => { for (const m of r.items || []) if (m.name) names.set(m.node_id, m.name); };
  let changedAt = Date.now(); // members get named and come online in the first seconds: look more often then
  /** The node applies a join, revoke or leave within a second or so: poll the members until ok(r). */
  const settle = async (ok, ms = 10_000) => {
    const until = Date.now() + ms;
    for (;;) {
      r = await fed.members({ fresh: true, signal: ctx.signal });
      remember();
      if (ok(r) || Date.now() > until) return r;
      await new Promise((res) => setTimeout(res, 300));
    }
  };

  const renderMembers = () => {
    remember();
    const items = r.items || [];
    const online = items.filter((m) => m.online).length;
    title.textContent = r.name || tr('nav.federation');
    sub.textContent = inFederation ? [trn('count.members', items.length), tr('federation.online_count', { n: fmtNumber(online) }), tr('federation.id', { id: String(r.federation_id).slice(0, 12) })].join(' · ') : '';
    const others = items.filter((m) => !m.self);
    const tile = (v, l) => h('div', { class: 'tile' }, h('div', { class: 'tile-v' }, v), h('div', { class: 'muted' }, l));
    tiles.replaceChildren(
      tile(`${fmtNumber(online)}/${fmtNumber(items.length)}`, tr('federation.members_online')),
      tile(fmtNumber(items.reduce((n, m) => n + (m.tracks || 0), 0)), tr('federation.songs_across')),
      tile(fmtBytes(others.reduce((n, m) => n + (m.bytes_fetched || 0), 0)), tr('federation.streamed_from')),
      tile(fmtBytes(others.reduce((n, m) => n + (m.bytes_served || 0), 0)), tr('federation.served_to')));
    const local = folders.filter((f) => !f.node);
    membersHost.replaceChildren(...items.map((m) => {
      const folder = m.self ? (local.length === 1 ? local[0] : null) : folders.find((f) => f.node === m.node_id);
      const card = memberCard(m, { folder, owner, onRevoke: revoke });
      card.setAttribute('role', 'listitem');
      return card;
    }));
    revokedHost.textContent = r.revoked?.length
      ? tr('federation.revoked', { names: fmtList(r.revoked.map((id) => (names.has(id) ? `${names.get(id)} (${fed.shortId(id)})` : fed.nodeName(id)))) }) : '';
  };
  const refresh = async () => {
    try {
      [r, folders] = await Promise.all([fed.members({ fresh: true, signal: ctx.signal }),
        api('/folders', { signal: ctx.signal }).then((x) => x.items || []).catch(() => folders)]);
      if (ctx.signal.aborted) return;
      if (!!r.federation_id !== inFederation) return go(location.pathname); // joined or left meanwhile (the CLI, another tab)
      renderMembers();
    } catch { /* offline or navigated away: keep what is shown */ }
  };
  const revoke = async (m, name) => {
    const ok = await confirmDialog(tr('federation.revoke_title', { name }), tr('federation.revoke_text'), { ok: tr('member.revoke'), danger: true });
    if (!ok) return;
    try {
      await api(`/federation/members/${enc(m.node_id)}`, { method: 'DELETE' });
      toast(tr('federation.revoked_toast', { name }));
      fed.invalidate();
      await settle((x) => !(x.items || []).some((i) => i.node_id === m.node_id));
      changedAt = Date.now();
      refresh();
    } catch (e) { if (e.name !== 'AbortError') toast(e.message, { error: true }); }
  };

  // invites (admins) -----------------------------------------------------------------------
  let invitePanel = null;
  const fedAdmin = !inFederation || (r.items || []).some((m) => m.self && m.admin); // only its admins invite admins
  if (admin && has('/api/v1/federation/invites')) {
    const uses = h('input', { type: 'number', min: 1, max: 100, value: 1, name: 'uses', class: 'input', 'aria-label': tr('invite.uses') });
    const ttl = h('select', { class: 'select', name: 'ttl', 'aria-label': tr('invite.valid_for') }, TTLS.map(([v, l]) => h('option', { value: v, selected: v === '24h' }, l)));
    const asAdmin = h('input', { type: 'checkbox', name: 'admin', class: 'switch', 'aria-label': tr('invite.as_admin') });
    const result = h('div', { class: 'invite-result', 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'btn primary' }, icon('plus', 18), tr('invite.create'));
    const form = h('form', { class: 'invite-form' },
      h('label', { class: 'field' }, h('span', {}, tr('invite.uses')), uses),
      h('label', { class: 'field' }, h('span', {}, tr('invite.valid_for')), ttl),
      owner && fedAdmin ? h('label', { class: 'field check' }, h('span', {}, tr('role.admin')), h('span', { class: 'row' }, asAdmin, h('span', { class: 'small muted' }, tr('invite.can_invite')))) : null,
      submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      submit.disabled = true;
      try {
        const n = Math.max(1, Math.min(100, Number(uses.value) || 1));
        const inv = await api('/federation/invites', { method: 'POST', body: { uses: n, ttl: ttl.value, admin: asAdmin.checked } });
        const until = inv.expires_at ? new Date(inv.expires_at * (inv.expires_at < 1e12 ? 1000 : 1)) : null;
        const copy = h('button', { type: 'button', class: 'btn small copy-btn', 'aria-label': tr('invite.copy_label') }, icon('copy', 16), tr('invite.copy'));
        copy.addEventListener('click', async () => {
          const ok = await copyText(inv.code);
          copy.replaceChildren(icon(ok ? 'done' : 'copy', 16), ok ? tr('invite.copied') : tr('invite.select_and_copy'));
          if (!ok) { const sel = getSelection(); sel.selectAllChildren(code); }
          setTimeout(() => copy.replaceChildren(icon('copy', 16), tr('invite.copy')), 2000);
        });
        const code = h('pre', { class: 'invite-code', tabindex: '0', 'aria-label': tr('invite.code') }, inv.code);
        result.replaceChildren(h('div', { class: 'invite-card' },
          h('div', { class: 'row between' },
            h('div', {}, h('strong', {}, tr('invite.code')), h('span', { class: 'muted small' }, ` · ${tr('invite.shown_once')}`)), copy),
          code,
          h('p', { class: 'muted small' },
            trn('invite.uses_count', inv.uses ?? n) + (until ? ` · ${tr('invite.valid_until', { when: fmtDateTime(until) })}` : '') + '. ',
            trParts('invite.howto', { command: h('code', { class: 'inline' }, 'sonantica join <code>') }))));
        fed.invalidate();
        if (!inFederation) refresh();
      } catch (ex) { toast(ex.message, { error: true }); }
      submit.disabled = false;
    });
    invitePanel = h('section', { class: 'panel', 'aria-labelledby': 'invite-title' },
      h('div', {}, h('h2', { id: 'invite-title' }, tr('invite.title')),
        h('p', { class: 'muted small' }, inFederation ? tr('invite.sub') : tr('invite.sub_first'))),
      form, result);
  }

  // join (owner) ------------------------------------------------------------------------------
  let joinPanel = null;
  if (owner && !inFederation && has('/api/v1/federation/join')) { // a node is in one federation at most
    const code = h('textarea', { class: 'input mono code-input', name: 'code', rows: 3, required: true, spellcheck: 'false', autocomplete: 'off', 'aria-label': tr('invite.code'), placeholder: tr('invite.placeholder') });
    const submit = h('button', { type: 'submit', class: 'btn' }, icon('federation', 18), tr('join.join'));
    const form = h('form', { class: 'join-form' }, code, h('div', { class: 'row end' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const value = code.value.trim();
      if (!value) return;
      submit.disabled = true;
      try {
        await api('/federation/join', { method: 'POST', body: { code: value } });
        toast(tr('join.joined'));
        fed.invalidate();
        await settle((x) => !!x.federation_id);
        go(location.pathname);
      } catch (ex) { if (ex.name !== 'AbortError') toast(ex.message, { error: true }); submit.disabled = false; }
    });
    joinPanel = h('section', { class: 'panel', 'aria-labelledby': 'join-title' },
      h('div', {}, h('h2', { id: 'join-title' }, tr('join.title')),
        h('p', { class: 'muted small' }, tr('join.sub'))),
      form);
  }

  // pinned albums ------------------------------------------------------------------------------
  const renderPins = async () => {
    if (!has('/api/v1/federation/pins')) return;
    let items = [];
    try { items = (await api('/federation/pins', { signal: ctx.signal })).items || []; } catch { return; }
    pinsHost.replaceChildren(h('section', { class: 'panel', 'aria-labelledby': 'pins-title' },
      h('div', { class: 'row between' }, h('h2', { id: 'pins-title' }, tr('pin.pinned_albums')), h('span', { class: 'chip' }, fmtNumber(items.length))),
      items.length ? h('ul', { class: 'pins' }, items.map((a) => h('li', { class: 'pin-row', dataset: { id: a.id } },
        cover(a.cover_url, { size: 64, seed: a.id, cls: 'tiny' }),
        h('div', { class: 'tmain' }, h('a', { href: `/album/${enc(a.id)}`, class: 'ttitle' }, a.name || tr('album.unknown')), h('div', { class: 'tsub' }, a.artist || '')),
        h('span', { class: 'chip ' + (a.replicated ? 'live' : 'pending') }, a.replicated ? tr('pin.replicated') : tr('pin.copying_short')),
        admin ? h('button', { type: 'button', class: 'btn small ghost', 'aria-label': tr('pin.unpin_name', { name: a.name }), onclick: async () => {
          try { await api(`/federation/pins/${enc(a.id)}`, { method: 'DELETE' }); toast(tr('pin.unpinned', { name: a.name })); renderPins(); } catch (e) { toast(e.message, { error: true }); }
        } }, tr('pin.unpin')) : null)))
        : h('p', { class: 'muted' }, tr('pin.none'))));
  };

  // leave (owner) ---------------------------------------------------------------------------------
  const leavePanel = owner && inFederation && has('/api/v1/federation/leave') ? h('section', { class: 'panel danger-zone', 'aria-labelledby': 'leave-title' },
    h('div', { class: 'row between' },
      h('div', {}, h('h2', { id: 'leave-title' }, tr('leave.title')),
        h('p', { class: 'muted small' }, tr('leave.sub'))),
      h('button', { type: 'button', class: 'btn danger', onclick: async () => {
        const ok = await confirmDialog(r.name ? tr('leave.confirm_named', { name: r.name }) : tr('leave.confirm'), tr('leave.confirm_text'), { ok: tr('leave.leave'), danger: true });
        if (!ok) return;
        try {
          await api('/federation/leave', { method: 'POST' });
          toast(tr('leave.left'));
          fed.invalidate();
          await settle((x) => !x.federation_id);
          go(location.pathname);
        } catch (e) { if (e.name !== 'AbortError') toast(e.message, { error: true }); }
      } }, tr('leave.button')))) : null;

  renderMembers();
  await renderPins();
  // every 10 s; every 1.5 s in the first minute after a change while a member is unnamed or offline
  let timer = 0;
  const forming = () => Date.now() - changedAt < 60_000 && (r.items || []).some((m) => !m.self && (!m.name || !m.online));
  const tick = () => {
    if (ctx.signal.aborted) return;
    timer = setTimeout(async () => { if (!document.hidden) await refresh(); tick(); }, forming() ? 1500 : 10_000);
  };
  tick();
  ctx.onLeave(() => clearTimeout(timer));

  const head = h('div', { class: 'page-head' },
    h('div', {}, h('div', { class: 'eyebrow' }, tr('nav.federation')), title, sub));
  if (!inFederation) {
    return page(tr('nav.federation'), head,
      h('div', { class: 'fed-empty panel' }, h('div', { class: 'fed-empty-icon', 'aria-hidden': 'true' }, icon('federation', 40)),
        h('h2', {}, tr('federation.none')),
        h('p', { class: 'muted' }, tr('federation.explained')),
        h('p', { class: 'muted small' }, admin ? tr('federation.none_admin') : tr('federation.none_listener'))),
      h('div', { class: 'fed-grid' }, invitePanel, joinPanel));
  }
  return page(tr('nav.federation'), head, tiles,
    h('section', { class: 'shelf', 'aria-label': tr('federation.members') }, h('div', { class: 'shelf-head' }, h('h2', {}, tr('federation.members')), revokedHost), membersHost),
    h('div', { class: 'fed-grid' }, invitePanel, joinPanel), pinsHost, leavePanel);
}

// -- stats (lights up when the node serves /api/v1/stats) ------------------------------------------------------
export async function stats(ctx) {
  if (!has('/api/v1/stats')) {
    return page(tr('nav.stats'), header(tr('nav.stats')), h('div', { class: 'empty' }, h('p', { class: 'muted' }, tr('stats.unavailable'))));
  }
  const period = ctx.params.get('period') || 'month';
  const s = await api('/stats' + qs({ period }), { signal: ctx.signal });
  const tabs = h('div', { class: 'segmented', role: 'tablist', 'aria-label': tr('stats.period') },
    [['week', tr('stats.week')], ['month', tr('stats.month')], ['year', tr('stats.year')], ['all', tr('stats.all_time')]].map(([v, l]) => h('a', { href: `/stats?period=${v}`, role: 'tab', 'aria-selected': String(v === period), class: v === period ? 'on' : '' }, l)));
  const bars = (title, values, labels) => values?.length ? h('section', { class: 'panel chart' }, h('h2', {}, title),
    h('div', { class: 'bars', role: 'img', 'aria-label': `${title}: ` + values.map((v, i) => `${labels[i]} ${fmtNumber(Math.round(v))}`).join(', ') },
      values.map((v, i) => h('div', { class: 'bar', title: `${labels[i]}: ${tr('stats.min', { n: fmtNumber(Math.round(v)) })}` }, h('span', { style: { height: `${(100 * v) / (Math.max(...values) || 1)}%` } }), h('small', {}, labels[i]))))) : null;
  const top = (title, items, label) => items?.length ? h('section', { class: 'panel' }, h('h2', {}, title),
    h('ol', { class: 'toplist' }, items.slice(0, 10).map((x) => h('li', {}, h('span', {}, label(x)), h('span', { class: 'muted' }, trn('count.plays', x.plays ?? x.count ?? 0)))))) : null;
  const totals = s.totals || {};
  const recs = await optional('/recommendations?count=12', '/api/v1/recommendations');
  const topList = s.top || {};
  const hours = (s.by_hour || []).map((x) => (x.ms || 0) / 60000);
  const days = (s.by_weekday || []).map((x) => (x.ms || 0) / 60000);
  const dayNames = (s.by_weekday || []).map((x, i) => fmtWeekday(x.weekday ?? i));
  const empty = !totals.plays;
  return page(tr('nav.stats'), header(tr('nav.stats'), { sub: s.from ? `${fmtDate(s.from)} – ${s.to ? fmtDate(s.to) : tr('stats.today')}` : null, actions: [tabs] }),
    h('div', { class: 'stat-tiles' },
      h('div', { class: 'tile' }, h('div', { class: 'tile-v' }, fmtNumber(Math.round(totals.minutes || 0))), h('div', { class: 'muted' }, tr('stats.minutes_listened'))),
      h('div', { class: 'tile' }, h('div', { class: 'tile-v' }, fmtNumber(totals.plays || 0)), h('div', { class: 'muted' }, tr('stats.plays'))),
      s.streaks?.current != null ? h('div', { class: 'tile' }, h('div', { class: 'tile-v' }, fmtNumber(s.streaks.current)), h('div', { class: 'muted' }, tr('stats.day_streak'))) : null),
    empty ? h('div', { class: 'empty' }, h('p', { class: 'muted' }, tr('stats.nothing'))) : h('div', { class: 'chart-grid' },
      bars(tr('stats.by_hour'), hours, hours.map((_, i) => String(i))),
      bars(tr('stats.by_weekday'), days, dayNames),
      top(tr('stats.top_artists'), topList.artists, (x) => x.name),
      top(tr('stats.top_albums'), topList.albums, (x) => `${x.name}${x.artist ? ' — ' + x.artist : ''}`),
      top(tr('stats.top_songs'), topList.tracks, (x) => `${x.name}${x.artist ? ' — ' + x.artist : ''}`),
      top(tr('stats.top_genres'), topList.genres, (x) => x.name)),
    recs?.items?.length ? h('section', { class: 'shelf' }, h('h2', {}, tr('home.recommended')),
      trackList(recs.items.filter((t) => t.title), { covers: true, label: tr('home.recommended_songs') })) : null);
}

/** Why a song is recommended, from the reason's kind and the names it carries (the node's text is English). */
function reasonText(reason) {
  if (!reason) return '';
  if (typeof reason === 'string') return reason;
  const r = reason;
  if (r.kind === 'co_listened' && r.title) return r.artist ? tr('reason.co_listened', { title: r.title, artist: r.artist }) : tr('reason.co_listened_title', { title: r.title });
  if (r.kind === 'similar_sound' && r.title) return tr('reason.similar_sound', { title: r.title });
  if (r.kind === 'artist' && r.artist) return tr('reason.artist', { artist: r.artist });
  if (r.kind === 'genre' && r.genre) return tr('reason.genre', { genre: r.genre });
  if (r.kind === 'popular') return tr('reason.popular');
  if (r.kind === 'federation' && r.source) return fed.fromText(fed.memberName(r.source) || r.source);
  return r.text || r.message || '';
}
