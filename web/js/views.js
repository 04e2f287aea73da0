// The pages of the app. Each view is `async (ctx, ...params) => Element`; ctx.signal aborts when the
// user navigates away, ctx.onLeave(fn) cleans up.

import { api, has, optional, qs } from './api.js';
import { EQ_BANDS, EQ_PRESETS, QUALITIES, facts, player } from './player.js';
import * as offline from './offline.js';
import { confirmDialog, copyText, cover, debounce, fmtBytes, fmtDuration, fmtTime, h, icon, iconButton, openMenu, plural, prompt, toast } from './ui.js';
import * as fed from './federation.js';
import { PagedSource, virtualList } from './vlist.js';
import { summary } from './rules.js';
import * as i18n from './i18n.js';
import { languageName, tr } from './i18n.js';
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
  return page('Error', h('div', { class: 'empty' },
    h('h1', {}, offlineErr ? 'You are offline' : err.status === 404 ? 'Not found' : 'Something went wrong'),
    h('p', { class: 'muted' }, offlineErr ? 'The node cannot be reached. Your downloads still play.' : err.message),
    h('div', { class: 'row center' }, h('a', { href: offlineErr ? '/downloads' : '/', class: 'btn primary' }, offlineErr ? 'Open downloads' : 'Go home'))));
}

export async function notFound() {
  return errorView({ status: 404, message: 'There is no page here.' });
}

// -- shared pieces ---------------------------------------------------------------------------
function albumCard(a, { eager = false, defer = false } = {}) {
  const playBtn = iconButton('play', `Play ${a.name}`, async (e) => {
    e.preventDefault();
    e.stopPropagation();
    const full = await api(`/albums/${enc(a.id)}`);
    player.playList(full.tracks, 0);
  }, { class: 'card-play', size: 22 });
  const c = cover(a.cover_url, { size: 300, seed: a.id, alt: '', defer });
  if (eager) c.querySelector('img')?.setAttribute('loading', 'eager');
  return h('a', { href: `/album/${enc(a.id)}`, class: 'card', 'aria-label': `${a.name} by ${a.artist || 'unknown artist'}` },
    h('div', { class: 'card-art' }, c, playBtn),
    h('div', { class: 'card-title' }, a.name || 'Unknown album'),
    h('div', { class: 'card-sub' }, [a.artist, a.year].filter(Boolean).join(' · ')));
}

function artistCard(a, { defer = false } = {}) {
  return h('a', { href: `/artist/${enc(a.id)}`, class: 'card artist-card', 'aria-label': a.name },
    h('div', { class: 'card-art round' }, a.cover_url ? cover(a.cover_url, { size: 300, seed: a.id, defer }) : h('div', { class: 'cover initials', style: { '--ph': hue(a.name) } }, initials(a.name))),
    h('div', { class: 'card-title' }, a.name),
    h('div', { class: 'card-sub' }, a.album_count != null ? plural(a.album_count, 'album') : 'Artist'));
}

const initials = (s = '?') => s.split(/\s+/).slice(0, 2).map((w) => w[0]).join('').toUpperCase();
function hue(s = '') { let x = 0; for (const c of s) x = (x * 31 + c.charCodeAt(0)) >>> 0; return String(x % 360); }

function grid(items, render, cls = '') {
  return h('div', { class: 'grid ' + cls, role: 'list' }, items.map((i) => { const el = render(i); el.setAttribute('role', 'listitem'); return el; }));
}

function shelf(title, href, items, render) {
  if (!items?.length) return null;
  return h('section', { class: 'shelf', 'aria-label': title },
    h('div', { class: 'shelf-head' }, h('h2', {}, title), href ? h('a', { href, class: 'link' }, 'See all') : null),
    h('div', { class: 'shelf-row' }, items.map(render)));
}

function techChips(t) {
  const chips = [];
  if (t.format) chips.push(String(t.format).toUpperCase());
  if (t.bit_depth && t.sample_rate) chips.push(`${t.bit_depth}-bit / ${(t.sample_rate / 1000).toFixed(1).replace(/\.0$/, '')} kHz`);
  else if (t.bitrate) chips.push(`${Math.round(t.bitrate / (t.bitrate > 10000 ? 1000 : 1))} kbps`);
  return chips;
}

/** Track actions, the same from every list. */
export function trackMenu(anchor, t, extra = []) {
  openMenu(anchor, [
    { label: 'Play next', icon: 'next', action: () => { player.addNext([t]); toast(`“${t.title}” plays next`); } },
    { label: 'Add to queue', icon: 'queue', action: () => { player.addToEnd([t]); toast(`Added “${t.title}” to the queue`); } },
    { label: 'Add to playlist…', icon: 'playlist', action: () => addToPlaylist([t]) },
    'sep',
    t.album_id ? { label: 'Go to album', icon: 'album', action: () => go(`/album/${enc(t.album_id)}`) } : null,
    t.artist_id ? { label: 'Go to artist', icon: 'artist', action: () => go(`/artist/${enc(t.artist_id)}`) } : null,
    has('/api/v1/radio') ? { label: 'Start radio', icon: 'radio', action: () => startRadio({ track: t.id }) } : null,
    ...sonicItems(t),
    { label: t.starred ? 'Unstar' : 'Star', icon: 'heart', action: () => toggleStar(t) },
    { label: 'Download for offline', icon: 'download', action: () => offline.downloadTrack(t).then(() => toast('Downloaded for offline')).catch((e) => toast(e.message, { error: true })) },
    shareItem([t.id], t.title),
    ...extra,
  ].filter(Boolean).map((x) => (x === 'sep' ? null : x)));
}

async function toggleStar(item) {
  await api(`/stars/${enc(item.id)}`, { method: item.starred ? 'DELETE' : 'PUT' });
  item.starred = item.starred ? null : new Date().toISOString();
  toast(item.starred ? 'Starred' : 'Unstarred');
}

async function startRadio(params) {
  try {
    const body = Object.fromEntries(Object.entries(params).map(([k, v]) => [`${k}_id`, v]));
    const r = await api('/radio', { method: 'POST', body: { ...body, count: 30 } });
    const tracks = r.tracks || r.items || [];
    if (!tracks.length) return toast('No radio for this yet');
    player.playList(tracks.map((x) => x.track || x), 0);
    toast('Radio started');
  } catch (e) { toast(e.message, { error: true }); }
}

export async function addToPlaylist(tracks) {
  const { items } = await api('/playlists');
  const mine = items.filter((p) => !p.generated && p.owner_id === app().state.user.id);
  const dlg = h('dialog', { class: 'dialog', 'aria-label': 'Add to playlist' });
  const choose = async (p) => {
    dlg.close();
    try {
      if (!p) {
        const name = await prompt('New playlist', { ok: 'Create' });
        if (!name) return;
        p = await api('/playlists', { method: 'POST', body: { name, track_ids: tracks.map((t) => t.id) } });
        app().refreshPlaylists();
      } else {
        await api(`/playlists/${enc(p.id)}/tracks`, { method: 'POST', body: { track_ids: tracks.map((t) => t.id) } });
      }
      toast(`Added ${plural(tracks.length, 'song')} to “${p.name}”`);
    } catch (e) { toast(e.message, { error: true }); }
  };
  dlg.append(h('h2', {}, 'Add to playlist'),
    h('div', { class: 'choice-list' },
      h('button', { type: 'button', class: 'choice', onclick: () => choose(null) }, icon('plus'), 'New playlist…'),
      mine.map((p) => h('button', { type: 'button', class: 'choice', onclick: () => choose(p) }, icon('playlist'), p.name, h('span', { class: 'muted' }, plural(p.song_count, 'song'))))),
    h('div', { class: 'row end' }, h('button', { type: 'button', class: 'btn ghost', onclick: () => dlg.close() }, 'Cancel')));
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
  const more = iconButton('more', `More actions for ${t.title}`, (e) => { e.stopPropagation(); trackMenu(more, t, opts.menuExtra?.(t, i) || []); }, { class: 'row-more' });
  const row = h(tag, {
    class: 'track', tabindex: '0', dataset: { id: t.id, index: i },
    'aria-label': `${t.title}${t.artist ? ' by ' + t.artist : ''}, ${fmtTime(t.duration)}`,
  },
  opts.reorder ? h('span', { class: 'drag', 'aria-hidden': 'true', title: 'Drag to reorder' }, icon('drag', 18)) : null,
  h('button', { type: 'button', class: 'track-play', 'aria-label': `Play ${t.title}`, onclick: (e) => { e.stopPropagation(); play(i); } }, num),
  opts.covers ? cover(t.cover_url, { size: 64, seed: t.album_id, cls: 'tiny', defer }) : null,
  h('div', { class: 'tmain' },
    h('div', { class: 'ttitle' }, t.title || 'Unknown title', h('span', { class: 'offline-dot', hidden: true, title: 'Downloaded', 'aria-label': 'downloaded' })),
    h('div', { class: 'tsub' }, fed.sourceBadge(t), h('span', { class: 'tsub-text' }, [t.artist, !opts.album && t.album ? t.album : null].filter(Boolean).join(' · ')))),
  !opts.album ? h('a', { href: t.album_id ? `/album/${enc(t.album_id)}` : '#', class: 'talbum' }, t.album || '') : null,
  h('span', { class: 'tdur' }, fmtTime(t.duration)),
  opts.remove ? iconButton('close', `Remove ${t.title}`, (e) => { e.stopPropagation(); opts.remove(i); }, { class: 'row-more' }) : null,
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
  const list = h('ol', { class: 'tracks' + (opts.album ? ' in-album' : ''), role: 'list', 'aria-label': opts.label || 'Songs' });
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
    source, columns: false, label: opts.label || 'Songs', cls: 'tracks', empty: opts.empty, onError: pageError,
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
  toast(err.status === 0 ? 'The node cannot be reached: retrying…' : err.message, { error: true });
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
    h('button', { type: 'button', class: 'btn primary', onclick: async () => player.playList(await getTracks(), 0) }, icon('play', 18), 'Play'),
    h('button', { type: 'button', class: 'btn', onclick: async () => player.playList(await getTracks(), 0, { shuffle: true }) }, icon('shuffle', 18), 'Shuffle'),
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
        `Downloading ${p.done}/${p.total}` + (p.bytes ? ` · ${fmtBytes(p.bytes)}` : ''));
      btn.setAttribute('aria-label', `Downloading, ${p.done} of ${p.total} songs`);
      return;
    }
    btn.disabled = false;
    const saved = await offline.isCollectionSaved(kind, id);
    btn.classList.toggle('saved', saved);
    btn.replaceChildren(icon(saved ? 'done' : 'download', 18), saved ? 'Downloaded' : 'Download');
    btn.setAttribute('aria-label', saved ? 'Downloaded for offline. Remove download' : 'Download for offline');
    btn.dataset.state = saved ? 'saved' : 'idle';
  };
  btn.addEventListener('click', async () => {
    if (btn.dataset.state === 'saved') {
      await offline.remove(kind, id);
      toast('Removed from this device');
    } else {
      try { await start(); toast('Ready to play offline'); } catch (e) { toast(e.message, { error: true }); }
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
  const greeting = hour < 5 ? 'Good night' : hour < 12 ? 'Good morning' : hour < 18 ? 'Good afternoon' : 'Good evening';
  const recTracks = (recs?.items || []).filter((r) => r.title).map((r) => ({ ...(r.track || r), reason: r.reason || r.reasons?.[0] }));
  const node = page('Home',
    header(greeting, { eyebrow: app().state.user.name }),
    player.current ? h('section', { class: 'resume', 'aria-label': 'Continue listening' },
      cover(player.current.cover_url, { size: 128, seed: player.current.album_id, cls: 'small' }),
      h('div', {}, h('div', { class: 'eyebrow' }, 'Continue listening'), h('div', { class: 'resume-title' }, player.current.title), h('div', { class: 'muted' }, player.current.artist)),
      h('button', { type: 'button', class: 'btn primary', onclick: () => player.play() }, icon('play', 18), 'Resume')) : null,
    shelf('Recently added', '/albums?sort=added', recent.items, (a) => albumCard(a)),
    recTracks.length ? h('section', { class: 'shelf', 'aria-label': 'Recommended for you' },
      h('div', { class: 'shelf-head' }, h('h2', {}, 'Recommended for you')),
      trackList(recTracks.slice(0, 8), { covers: true, label: 'Recommended songs', menuExtra: () => [] }),
      h('p', { class: 'muted small' }, reasonText(recTracks[0]?.reason))) : null,
    stats ? h('section', { class: 'shelf' }, h('div', { class: 'shelf-head' }, h('h2', {}, 'This week'), h('a', { href: '/stats', class: 'link' }, 'Your stats')),
      h('p', { class: 'muted' }, `${Math.round(stats.totals?.minutes || 0)} minutes listened · ${plural(stats.totals?.plays || 0, 'play')}`)) : null,
    shelf('From the years', '/albums?sort=year', random.items, (a) => albumCard(a)));
  if (!recent.items.length) {
    node.append(h('div', { class: 'empty' }, h('h2', {}, 'Your library is empty'),
      h('p', { class: 'muted' }, 'Add music folders with sonantica init --music, then scan. Progress shows up here live.'),
      h('a', { href: '/status', class: 'btn primary' }, 'Node status')));
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

export async function albums(ctx, { genre, title = 'Albums' } = {}) {
  const sort = ctx.params.get('sort') || 'name';
  const order = sort === 'added' || sort === 'year' ? 'desc' : 'asc';
  const hint = genre
    ? api('/genres', { signal: ctx.signal }).then((r) => r.items.find((g) => g.name === genre)?.album_count || 0)
    : libraryCounts(ctx.signal).then((c) => c.albums || 0);
  const source = await pagedSource(ctx, '/albums', { sort, order, genre }, hint);
  const list = virtualList({
    source, label: title, cls: 'albums', onError: pageError,
    render: (a, i) => albumCard(a, { eager: i < 12, defer: true }), skeleton: () => cardSkeleton(),
    empty: h('div', { class: 'empty' }, h('p', { class: 'muted' }, 'No albums yet.')),
  });
  ctx.onLeave(() => list.destroy());
  const sorter = h('select', { 'aria-label': 'Sort albums', class: 'select' },
    [['name', 'Name'], ['artist', 'Artist'], ['year', 'Year'], ['added', 'Recently added']].map(([v, l]) => h('option', { value: v, selected: v === sort }, l)));
  sorter.addEventListener('change', () => go(location.pathname + '?sort=' + sorter.value));
  return page(title, header(title, { actions: [sorter] }), list);
}

export async function genre(ctx, name) {
  return albums(ctx, { genre: name, title: name });
}

export async function artists(ctx) {
  const source = await pagedSource(ctx, '/artists', { album_artists: 1 });
  const list = virtualList({
    source, label: 'Artists', cls: 'artists', onError: pageError,
    render: (a) => artistCard(a, { defer: true }), skeleton: () => cardSkeleton(true),
    empty: h('div', { class: 'empty' }, h('p', { class: 'muted' }, 'No artists yet.')),
  });
  ctx.onLeave(() => list.destroy());
  return page('Artists', header('Artists'), list);
}

export async function genres(ctx) {
  const { items } = await api('/genres', { signal: ctx.signal });
  return page('Genres', header('Genres'),
    h('div', { class: 'grid genres', role: 'list' }, items.map((g) => h('a', {
      href: `/genre/${enc(g.name)}`, class: 'genre-tile', role: 'listitem', style: { '--ph': hue(g.name) },
    }, h('span', {}, g.name), h('small', {}, [g.album_count != null ? plural(g.album_count, 'album') : null, g.song_count != null ? plural(g.song_count, 'song') : null].filter(Boolean).join(' · '))))));
}

export async function tracks(ctx) {
  const sort = ctx.params.get('sort') || 'title';
  const folderId = ctx.params.get('folder') || '';
  let heading = 'Songs', eyebrow = null, sub = null;
  if (folderId) {
    const { items = [] } = await api('/folders', { signal: ctx.signal }).catch(() => ({}));
    const f = items.find((x) => String(x.id) === folderId);
    const member = f?.node ? (await fed.members().catch(() => ({ items: [] }))).items.find((m) => m.node_id === f.node) : null;
    heading = f ? (f.node ? `Music from ${member?.name || f.name}` : f.name) : 'Songs in this folder';
    eyebrow = f?.node ? 'Federation member' : 'Music folder';
    sub = f?.node ? (member ? `${member.online ? 'Online' : 'Offline'} · streamed from ${member.name || f.name} when played` : null) : 'On this node';
  }
  const hint = folderId ? Promise.resolve(0) : libraryCounts(ctx.signal).then((c) => c.tracks || 0);
  const source = await pagedSource(ctx, '/tracks', { sort, folder: folderId }, hint);
  const list = virtualTrackList(source, {
    covers: true, label: heading,
    empty: h('div', { class: 'empty' }, h('p', { class: 'muted' }, folderId ? 'No songs in this folder yet.' : 'No songs yet.')),
  });
  ctx.onLeave(() => list.destroy());
  return page(heading, header(heading, { eyebrow, sub, actions: playButtons(async () => source.items) }), list);
}

export async function starred(ctx) {
  const s = await api('/stars', { signal: ctx.signal });
  return page('Starred', header('Starred', { actions: s.tracks.length ? playButtons(async () => s.tracks) : null }),
    shelf('Albums', null, s.albums, (a) => albumCard(a)), shelf('Artists', null, s.artists, artistCard),
    s.tracks.length ? h('section', { class: 'shelf' }, h('h2', {}, 'Songs'), trackList(s.tracks, { covers: true })) : null,
    !s.tracks.length && !s.albums.length && !s.artists.length ? h('div', { class: 'empty' }, h('p', { class: 'muted' }, 'Star songs, albums and artists to find them here.')) : null);
}

export async function album(ctx, id) {
  const a = await api(`/albums/${enc(id)}`, { signal: ctx.signal });
  const t0 = a.tracks[0] || {};
  const remote = a.tracks.length > 0 && a.tracks.every((t) => fed.sourceOf(t));
  const sources = [...new Set(a.tracks.map((t) => fed.sourceOf(t)).filter(Boolean))];
  if (remote) await fed.members().catch(() => null);
  const fromChip = remote ? h('span', { class: 'chip from-node' }, h('span', { class: 'source-dot', 'aria-hidden': 'true' }),
    fed.fromText(sources.map((n) => fed.memberName(n) || `Node ${fed.shortId(n)}`).join(' and '))) : null;
  const pinBtn = remote ? await pinButton(a) : null;
  const discs = new Set(a.tracks.map((t) => t.disc_no || 1));
  const list = discs.size > 1
    ? [...discs].sort((x, y) => x - y).map((d) => {
      const dt = a.tracks.filter((t) => (t.disc_no || 1) === d);
      return h('section', {}, h('h3', { class: 'disc' }, `Disc ${d}`), trackList(dt, { numbered: true, album: true, play: (i) => player.playList(a.tracks, a.tracks.indexOf(dt[i])) }));
    })
    : trackList(a.tracks, { numbered: true, album: true, label: `Songs of ${a.name}` });
  const more = iconButton('more', 'More album actions', () => openMenu(more, [
    { label: 'Play next', icon: 'next', action: () => player.addNext(a.tracks) },
    { label: 'Add to queue', icon: 'queue', action: () => player.addToEnd(a.tracks) },
    { label: 'Add to playlist…', icon: 'playlist', action: () => addToPlaylist(a.tracks) },
    { label: a.starred ? 'Unstar album' : 'Star album', icon: 'heart', action: () => toggleStar(a) },
    shareItem([a.id], a.name),
    a.artist_id ? { label: 'Go to artist', icon: 'artist', action: () => go(`/artist/${enc(a.artist_id)}`) } : null,
    has('/api/v1/radio') && a.artist_id ? { label: 'Artist radio', icon: 'radio', action: () => startRadio({ artist: a.artist_id }) } : null,
  ].filter(Boolean)), { class: 'btn-icon' });
  const hero = h('div', { class: 'hero' },
    h('div', { class: 'hero-bg', 'aria-hidden': 'true' }, a.cover_url ? h('img', { src: a.cover_url + '?size=64', alt: '' }) : null),
    cover(a.cover_url, { size: 600, seed: a.id, cls: 'hero-art', alt: `Cover of ${a.name}` }),
    h('div', { class: 'hero-meta' },
      h('div', { class: 'eyebrow' }, a.compilation ? 'Compilation' : 'Album'),
      h('h1', {}, a.name),
      h('p', { class: 'hero-sub' },
        a.artist_id ? h('a', { href: `/artist/${enc(a.artist_id)}`, class: 'strong' }, a.artist) : h('span', { class: 'strong' }, a.artist || ''),
        [a.year, plural(a.tracks.length, 'song'), fmtDuration(a.duration)].filter(Boolean).map((x) => h('span', {}, ' · ', x))),
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
    btn.replaceChildren(icon(pin ? 'done' : 'pin', 18), pin ? (pin.replicated ? 'Copy kept here' : 'Copying here…') : 'Keep a copy');
    btn.setAttribute('aria-label', pin ? 'Pinned: a copy is kept on this node. Unpin' : 'Keep a copy on this node (pin)');
    btn.title = pin ? 'Pinned to this node · click to unpin' : 'Keep a full copy of this album on this node';
    btn.dataset.state = pin ? 'pinned' : 'idle';
  };
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      await api(`/federation/pins/${enc(a.id)}`, { method: pin ? 'DELETE' : 'PUT' });
      pin = pin ? null : { id: a.id, replicated: false };
      toast(pin ? `A copy of “${a.name}” will be kept here` : `“${a.name}” is no longer pinned`);
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
      h('div', { class: 'hero-meta' }, h('div', { class: 'eyebrow' }, 'Artist'), h('h1', {}, a.name),
        h('p', { class: 'muted' }, [plural(a.albums.length, 'album'), a.song_count != null ? plural(a.song_count, 'song') : null].filter(Boolean).join(' · ')),
        h('div', { class: 'row actions' }, playButtons(all),
          has('/api/v1/radio') ? h('button', { type: 'button', class: 'btn', onclick: () => startRadio({ artist: a.id }) }, icon('radio', 18), 'Radio') : null))),
    a.top_tracks?.length ? h('section', { class: 'shelf' }, h('h2', {}, 'Popular'), trackList(a.top_tracks.slice(0, 10), { covers: true })) : null,
    h('section', { class: 'shelf' }, h('h2', {}, 'Albums'), grid(a.albums, (x) => albumCard(x), 'albums')),
    artistAbout(a.info));
}

// External metadata's progress and providers' health (GET /api/v1/metadata), or how to turn it on.
function metadataPanel(m) {
  if (!m) return null;
  if (!m.enabled) return h('div', { class: 'panel' }, h('h2', {}, 'External metadata'),
    h('p', { class: 'muted' }, 'Off: the node asks no outside service anything. Set metadata = true in config.toml to fetch covers, lyrics and artist pictures.'));
  const kinds = [['albums', 'Albums'], ['artists', 'Artists'], ['tracks', 'Songs']];
  return h('div', { class: 'panel', 'aria-label': 'External metadata' },
    h('div', { class: 'row between' }, h('h2', {}, 'External metadata'), h('span', { class: 'chip ' + (m.running ? 'live' : '') }, m.running ? 'Looking up' : 'Idle')),
    kinds.map(([k, label]) => h('p', { class: 'muted' }, `${label}: ${m[k].checked} of ${m[k].total} looked at, ${m[k].found} found`)),
    h('ul', { class: 'provider-list' }, (Array.isArray(m.providers) ? m.providers : []).map((p) =>
      h('li', { class: 'muted' }, `${p.name}: ${p.requests} requests, ${p.failures} failures`, p.last_error ? ` — last error: ${p.last_error}` : ''))));
}

// The biography and picture credits external metadata found (docs/metadata.md): text only, never HTML,
// with the source links the licences ask for.
function artistAbout(info) {
  if (!info || (!info.biography && !info.image_attribution)) return null;
  const link = (url, text) => (/^https?:\/\//.test(url || '') ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, text) : null);
  return h('section', { class: 'shelf artist-about' }, h('h2', {}, 'About'),
    info.biography ? h('p', { class: 'bio' }, info.biography) : null,
    info.biography ? h('p', { class: 'muted credit' }, info.biography_attribution || '', ' · ', link(info.biography_source, 'Read more')) : null,
    info.image_attribution ? h('p', { class: 'muted credit' }, info.image_attribution, ' · ', link(info.image_source, 'Source')) : null);
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
    searchHost.replaceChildren(h('div', { class: 'empty' }, h('p', { class: 'muted' }, 'Find artists, albums and songs as you type.')));
    return;
  }
  try {
    const r = await api('/search' + qs({ q, limit: 24 }), { signal: searchAbort.signal });
    const none = !r.artists.length && !r.albums.length && !r.tracks.length;
    searchHost.replaceChildren(
      none ? h('div', { class: 'empty' }, h('p', { class: 'muted' }, `Nothing matches “${q}”.`)) : '',
      r.tracks.length ? h('section', { class: 'shelf', 'aria-label': 'Songs' }, h('h2', {}, 'Songs'), trackList(r.tracks.slice(0, 10), { covers: true, label: 'Matching songs' })) : '',
      shelf('Artists', null, r.artists, artistCard) || '',
      r.albums.length ? h('section', { class: 'shelf', 'aria-label': 'Albums' }, h('h2', {}, 'Albums'), grid(r.albums, (a) => albumCard(a), 'albums')) : '');
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
  return page('Search', h('h1', { class: 'visually-hidden' }, 'Search'), searchHost);
}

// -- playlists -------------------------------------------------------------------------------------------
export async function playlists(ctx) {
  const { items } = await api('/playlists', { signal: ctx.signal });
  const create = h('button', { type: 'button', class: 'btn primary', onclick: async () => {
    const name = await prompt('New playlist', { ok: 'Create' });
    if (!name) return;
    const p = await api('/playlists', { method: 'POST', body: { name } });
    app().refreshPlaylists();
    go(`/playlist/${enc(p.id)}`);
  } }, icon('plus', 18), 'New playlist');
  const file = h('input', { type: 'file', accept: '.m3u,.m3u8,.xspf,audio/x-mpegurl,application/xspf+xml', hidden: true, 'aria-label': 'Playlist file to import' });
  file.addEventListener('change', async () => {
    const f = file.files[0];
    if (!f) return;
    try {
      const r = await api('/playlists/import' + qs({ name: f.name.replace(/\.(m3u8?|xspf)$/i, '') }), { method: 'POST', body: await f.text() });
      toast(`Imported “${r.name}”: ${r.matched} matched, ${r.unmatched} not found`);
      app().refreshPlaylists();
      go(`/playlist/${enc(r.id)}`);
    } catch (e) { toast(e.message, { error: true }); }
  });
  const importBtn = h('button', { type: 'button', class: 'btn', onclick: () => file.click() }, 'Import M3U8');
  const canSmart = has('/api/v1/smart-playlists');
  const newSmart = canSmart ? h('a', { href: '/playlists/smart', class: 'btn' }, icon('plus', 18), 'New smart playlist') : null;
  const me = app().state.user;
  const mySmart = items.filter((p) => p.generated === 'smart' && p.owner_id === me.id);
  const generated = items.filter((p) => p.generated && !mySmart.includes(p));
  const own = items.filter((p) => !p.generated);
  const tile = (p) => h('a', { href: `/playlist/${enc(p.id)}`, class: 'card playlist-card', role: 'listitem', 'aria-label': p.name },
    h('div', { class: 'card-art' }, h('div', { class: 'cover playlist-art', style: { '--ph': hue(p.name) } }, icon('playlist', 40))),
    h('div', { class: 'card-title' }, p.name), h('div', { class: 'card-sub' }, `${plural(p.song_count, 'song')} · ${p.owner}`));
  const section = (title, list, note) => h('section', { class: 'shelf', 'aria-labelledby': `pl-${title.replace(/\W+/g, '-')}` },
    h('h2', { id: `pl-${title.replace(/\W+/g, '-')}` }, title), note || null,
    list.length ? h('div', { class: 'grid albums', role: 'list', 'aria-label': title }, list.map(tile)) : null);
  return page('Playlists', header('Playlists', { actions: [create, newSmart, importBtn, file] }),
    own.length ? h('div', { class: 'grid albums', role: 'list', 'aria-label': 'Your playlists' }, own.map(tile)) : h('div', { class: 'empty' }, h('p', { class: 'muted' }, 'No playlists yet. Create one, or add songs from any list with ⋯ → Add to playlist.')),
    mySmart.length || canSmart ? section('Smart playlists', mySmart, mySmart.length ? null
      : h('p', { class: 'muted' }, 'Rules pick the songs: say “genre is Jazz and played more than 3 times”, and the playlist keeps itself up to date.')) : null,
    generated.length ? section('Made for you', generated) : null);
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
    sub.textContent = [`${plural(p.tracks.length, 'song')}`, fmtDuration(p.tracks.reduce((s, t) => s + (t.duration || 0), 0)), `by ${p.owner}`].join(' · ');
    listHost.replaceChildren(p.tracks.length ? trackList(p.tracks, {
      covers: true, label: `Songs of ${p.name}`,
      reorder: writable ? reorder : null,
      menuExtra: writable ? (t, i) => [{ label: 'Remove from playlist', icon: 'trash', action: () => removeAt(i) }] : null,
    }) : h('div', { class: 'empty' }, h('p', { class: 'muted' }, smart ? 'No song matches these rules yet.' : 'This playlist is empty. Add songs from any list with ⋯ → Add to playlist.')));
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
    const name = await prompt('Rename playlist', { value: p.name });
    if (!name || name === p.name) return;
    await api(`/playlists/${enc(id)}`, { method: 'PATCH', body: { name } });
    p.name = name;
    title.textContent = name;
    app().refreshPlaylists();
  };
  const del = async () => {
    if (!await confirmDialog(`Delete “${p.name}”?`, 'The songs stay in the library.', { ok: 'Delete', danger: true })) return;
    await api(`/playlists/${enc(id)}`, { method: 'DELETE' });
    app().refreshPlaylists();
    toast('Playlist deleted');
    go('/playlists');
  };
  const more = iconButton('more', 'More playlist actions', () => openMenu(more, [
    writable ? { label: 'Rename…', icon: 'settings', action: rename } : null,
    { label: 'Add to queue', icon: 'queue', action: () => player.addToEnd(p.tracks) },
    shareItem([p.id], p.name),
    { label: 'Export M3U8', icon: 'download', action: () => { const a = h('a', { href: `/api/v1/playlists/${enc(id)}/export?format=m3u8`, download: '' }); document.body.append(a); a.click(); a.remove(); } },
    editable ? { label: 'Edit rules…', icon: 'settings', action: () => go(`/playlists/smart/${enc(id)}`) } : null,
    writable || editable || me.role === 'owner' ? { label: 'Delete playlist', icon: 'trash', action: del } : null,
  ].filter(Boolean)), { class: 'btn-icon' });
  render();
  return page(p.name,
    h('div', { class: 'hero playlist-hero' },
      h('div', { class: 'hero-art' }, h('div', { class: 'cover playlist-art', style: { '--ph': hue(p.name) } }, icon('playlist', 64))),
      h('div', { class: 'hero-meta' }, h('div', { class: 'eyebrow' }, smart ? 'Smart playlist' : p.generated ? 'Generated playlist' : 'Playlist'), title, sub,
        p.comment ? h('p', { class: 'muted' }, p.comment) : null,
        smart ? h('p', { class: 'muted smart-rules' }, summary(p.rules)) : null,
        h('div', { class: 'row actions' }, playButtons(async () => p.tracks, {
          download: downloadButton('playlist', p.id, () => offline.download({ kind: 'playlist', id: p.id, name: p.name, tracks: p.tracks, page: `/playlists/${enc(p.id)}` })),
          more,
        }), writable ? h('button', { type: 'button', class: 'btn ghost', onclick: rename }, 'Rename') : null,
        editable ? h('a', { href: `/playlists/smart/${enc(id)}`, class: 'btn ghost' }, 'Edit rules') : null))),
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
      cur ? h('section', { class: 'shelf' }, h('h2', {}, 'Now playing'), trackList([cur], { covers: true, play: () => player.play() })) : h('div', { class: 'empty' }, h('p', { class: 'muted' }, 'The queue is empty. Play something, or add songs with ⋯ → Add to queue.')),
      upNext.length ? h('section', { class: 'shelf' }, h('div', { class: 'shelf-head' }, h('h2', {}, 'Up next'), h('span', { class: 'muted' }, plural(upNext.length, 'song'))),
        trackList(upNext, {
          covers: true, label: 'Up next',
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
  const clear = h('button', { type: 'button', class: 'btn', onclick: () => player.clear() }, icon('trash', 18), 'Clear');
  const shuffle = h('button', { type: 'button', class: 'btn', onclick: () => player.setShuffle(!player.shuffle) }, icon('shuffle', 18), 'Shuffle');
  return page('Queue', header('Queue', { actions: [shuffle, clear] }), host);
}

// -- now playing -------------------------------------------------------------------------------------------
export async function nowPlaying(ctx) {
  const art = h('div', { class: 'np-art' });
  const title = h('h1', { class: 'np-title' });
  const artist = h('p', { class: 'np-artist' });
  const chips = h('div', { class: 'chips' });
  const seek = h('son-seekbar', { class: 'np-seek', label: 'Seek' });
  const pos = h('span', { class: 'time' }), dur = h('span', { class: 'time' });
  const lyricsBox = h('div', { class: 'lyrics', 'aria-label': 'Lyrics', tabindex: '0' });
  const playBtn = h('button', { type: 'button', class: 'play-btn big', 'aria-label': 'Play', onclick: () => player.toggle() }, icon('play', 30));
  seek.addEventListener('seek', (e) => player.seek(e.detail));
  let lyrics = null, lyricLines = [], lastLine = -1;

  const renderTrack = async () => {
    const t = player.current;
    art.replaceChildren(cover(t?.cover_url, { size: 600, seed: t?.album_id || 'none', alt: t ? `Cover of ${t.album || t.title}` : '' }));
    title.textContent = t ? t.title : 'Nothing playing';
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
    lyricsBox.replaceChildren(...(lyricLines.length ? lyricLines : [h('p', { class: 'muted no-lyrics' }, 'No lyrics for this song.')]));
  };
  const renderChips = () => {
    const t = player.current;
    if (!t) return chips.replaceChildren();
    const d = { ...t, ...(player.details.get(t.id) || {}) };
    const { bpm, key, camelot, lufs: loud, tg, ag } = facts(d);
    const rg = player.settings.replaygain === 'album' ? ag ?? tg : tg ?? ag;
    chips.replaceChildren(...[
      ...techChips(d),
      bpm ? `${Math.round(bpm)} BPM` : null,
      key ? `Key ${key}${camelot ? ' · ' + camelot : ''}` : null,
      loud != null ? `${Number(loud).toFixed(1)} LUFS` : null,
      rg != null && player.settings.replaygain !== 'off' ? `RG ${rg > 0 ? '+' : ''}${Number(rg).toFixed(1)} dB` : null,
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
  const shuffleBtn = iconButton('shuffle', 'Shuffle', () => player.setShuffle(!player.shuffle), { class: 'toggle' });
  const repeatBtn = iconButton('repeat', 'Repeat', () => player.cycleRepeat(), { class: 'toggle' });
  const renderState = () => {
    playBtn.replaceChildren(icon(player.playing ? 'pause' : 'play', 30));
    playBtn.setAttribute('aria-label', player.playing ? 'Pause' : 'Play');
    shuffleBtn.setAttribute('aria-pressed', String(player.shuffle));
    repeatBtn.setAttribute('aria-pressed', String(player.repeat !== 'off'));
    repeatBtn.setAttribute('aria-label', `Repeat: ${player.repeat}`);
    repeatBtn.replaceChildren(icon(player.repeat === 'one' ? 'repeat1' : 'repeat', 20));
  };
  const listeners = { track: renderTrack, time: renderTime, state: renderState, details: renderChips };
  for (const [k, fn] of Object.entries(listeners)) player.addEventListener(k, fn);
  ctx.onLeave(() => { for (const [k, fn] of Object.entries(listeners)) player.removeEventListener(k, fn); });
  renderTrack();
  renderState();
  renderTime();
  return page('Now playing', h('div', { class: 'now' },
    h('div', { class: 'np-left' }, art,
      h('div', { class: 'np-info' }, title, artist, chips),
      h('div', { class: 'np-progress' }, seek, h('div', { class: 'row between' }, pos, dur)),
      h('div', { class: 'np-controls' },
        shuffleBtn, iconButton('prev', 'Previous', () => player.prev(), { size: 28 }), playBtn,
        iconButton('next', 'Next', () => player.next(), { size: 28 }), repeatBtn)),
    h('div', { class: 'np-right' },
      h('div', { class: 'tabs', role: 'tablist' }, h('h2', {}, 'Lyrics')), lyricsBox,
      h('details', { class: 'eq-details' }, h('summary', {}, icon('eq', 18), 'Equaliser'), eqPanel()))));
}

// -- equaliser ------------------------------------------------------------------------------------------------
export function eqPanel() {
  const preset = h('select', { class: 'select', 'aria-label': 'Equaliser preset' },
    [...Object.keys(EQ_PRESETS), 'Custom'].map((n) => h('option', { value: n }, n)));
  const on = h('input', { type: 'checkbox', class: 'switch', 'aria-label': 'Equaliser on' });
  const sliders = EQ_BANDS.map((f, i) => {
    const s = h('input', { type: 'range', min: -12, max: 12, step: 0.5, class: 'eq-slider', 'aria-label': `${f >= 1000 ? f / 1000 + ' kHz' : f + ' Hz'} band gain`, dataset: { band: i } });
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
    h('div', { class: 'row between' }, h('label', { class: 'row' }, on, 'Equaliser'), preset),
    h('div', { class: 'eq-bands' }, EQ_BANDS.map((f, i) => h('div', { class: 'eq-band' }, values[i], sliders[i], h('span', { class: 'eq-f' }, f >= 1000 ? f / 1000 + 'k' : f)))));
}

// -- downloads ------------------------------------------------------------------------------------------------
export async function downloads(ctx) {
  const quota = h('div', { class: 'quota' });
  const list = h('div', { class: 'downloads' });
  const render = async () => {
    const e = await offline.estimate();
    quota.replaceChildren(e ? h('div', {},
      h('div', { class: 'row between' }, h('strong', {}, `${fmtBytes(e.usage)} used`), h('span', { class: 'muted' }, `of ${fmtBytes(e.quota)} available to this app${e.persisted ? ' · persistent' : ''}`)),
      h('div', { class: 'meter', role: 'meter', 'aria-label': 'Storage used', 'aria-valuemin': 0, 'aria-valuemax': e.quota, 'aria-valuenow': e.usage },
        h('span', { style: { width: `${Math.max(0.5, (100 * e.usage) / (e.quota || 1))}%` } }))) : h('p', { class: 'muted' }, 'This browser does not report its storage quota.'));
    const items = await offline.collections();
    list.replaceChildren(...(items.length ? items.map((c) => h('div', { class: 'download-item' },
      cover(c.cover_url, { size: 64, seed: c.id, cls: 'tiny' }),
      h('div', { class: 'tmain' }, h('div', { class: 'ttitle' }, c.name), h('div', { class: 'tsub' }, [c.kind[0].toUpperCase() + c.kind.slice(1), c.artist, plural(c.track_ids.length, 'song')].filter(Boolean).join(' · '))),
      iconButton('play', `Play ${c.name}`, () => player.playList(c.tracks, 0)),
      iconButton('trash', `Remove ${c.name} from this device`, async () => { await offline.remove(c.kind, c.id); render(); })))
      : [h('div', { class: 'empty' }, h('p', { class: 'muted' }, 'Nothing downloaded yet. Use Download on an album or a playlist to keep it on this device.'))]));
  };
  await render();
  const onChange = () => render();
  offline.offlineEvents.addEventListener('change', onChange);
  ctx.onLeave(() => offline.offlineEvents.removeEventListener('change', onChange));
  const clearAll = h('button', { type: 'button', class: 'btn ghost', onclick: async () => { if (confirm('Remove every download from this device?')) { await offline.removeAll(); render(); } } }, 'Remove all');
  return page('Downloads', header('Downloads', { sub: 'Music kept on this device plays without the node.', actions: [clearAll] }), quota, list);
}

// -- settings -------------------------------------------------------------------------------------------------
export async function settings(ctx) {
  const me = app().state.user;
  const theme = h('select', { class: 'select', 'aria-label': 'Theme' }, [['system', 'Match the system'], ['dark', 'Dark'], ['light', 'Light']].map(([v, l]) => h('option', { value: v }, l)));
  theme.value = localStorage.getItem('sonantica.theme') || 'system';
  theme.addEventListener('change', async () => { localStorage.setItem('sonantica.theme', theme.value); (await import('./app.js')).applyTheme(); });
  const language = h('select', { class: 'select', name: 'language', 'aria-label': tr('settings.language') },
    h('option', { value: '' }, tr('settings.language_auto', { language: languageName(i18n.lang) })),
    i18n.LANGUAGES.map((code) => h('option', { value: code, lang: code }, languageName(code))));
  language.value = i18n.languageChoice();
  language.addEventListener('change', () => i18n.setLanguage(language.value));
  const quality = h('select', { class: 'select', 'aria-label': 'Streaming quality' }, Object.entries(QUALITIES).map(([v, q]) => h('option', { value: v }, q.label)));
  quality.value = player.settings.quality;
  quality.addEventListener('change', () => { player.settings.quality = quality.value; player.saveSettings(); toast('Applies from the next song'); });
  const rg = h('select', { class: 'select', 'aria-label': 'Volume normalisation (ReplayGain)' }, [['off', 'Off'], ['track', 'Track gain'], ['album', 'Album gain']].map(([v, l]) => h('option', { value: v }, l)));
  rg.value = player.settings.replaygain;
  rg.addEventListener('change', () => player.setReplayGain(rg.value));
  const preamp = h('input', { type: 'range', min: -12, max: 12, step: 0.5, value: player.settings.preamp, 'aria-label': 'ReplayGain pre-amp (dB)' });
  const preampOut = h('output', {}, `${player.settings.preamp} dB`);
  preamp.addEventListener('input', () => { player.setReplayGain(player.settings.replaygain, Number(preamp.value)); preampOut.textContent = `${preamp.value} dB`; });
  const { SHORTCUTS, signOut } = await import('./app.js');
  const keys = h('div', { class: 'api-keys' });
  const renderKeys = async () => {
    try {
      const { api_keys } = await api('/me/api-keys');
      keys.replaceChildren(...api_keys.map((k) => h('div', { class: 'row between key-row' }, h('span', {}, k.name, h('span', { class: 'muted' }, ` · ${k.created_at || ''}`)),
        h('button', { type: 'button', class: 'btn ghost small', onclick: async () => { await api(`/me/api-keys/${enc(k.id)}`, { method: 'DELETE' }); renderKeys(); } }, 'Revoke'))));
    } catch { keys.replaceChildren(); }
  };
  renderKeys();
  const newKey = h('button', { type: 'button', class: 'btn', onclick: async () => {
    const name = await prompt('New API key', { label: 'What is it for? (e.g. Symfonium on my phone)', ok: 'Create' });
    if (!name) return;
    const r = await api('/me/api-keys', { method: 'POST', body: { name } });
    keys.prepend(h('div', { class: 'new-key' }, h('p', {}, 'Copy this key now; it is shown only once:'), h('code', { tabindex: '0' }, r.key)));
    renderKeys().then(() => keys.prepend(h('div', { class: 'new-key' }, h('p', {}, 'Copy this key now; it is shown only once:'), h('code', { tabindex: '0' }, r.key))));
  } }, icon('plus', 18), 'New API key');
  const section = (title, ...body) => h('section', { class: 'panel', 'aria-label': title }, h('h2', {}, title), ...body);
  const field = (label, control, hint) => h('div', { class: 'setting' }, h('div', {}, h('div', { class: 'setting-label' }, label), hint ? h('div', { class: 'muted small' }, hint) : null), control);
  return page('Settings', header('Settings'),
    h('div', { class: 'settings' },
      section('Appearance', field('Theme', theme), field(tr('settings.language'), language, tr('settings.language_hint'))),
      section('Playback',
        field('Streaming quality', quality, 'Original is bit-exact; transcoded streams save data away from home.'),
        field('Volume normalisation', rg, 'ReplayGain from tags or the node’s loudness analysis.'),
        field('Pre-amp', h('div', { class: 'row' }, preamp, preampOut))),
      h('section', { class: 'panel', id: 'eq', 'aria-label': 'Equaliser' }, h('h2', {}, 'Equaliser'), eqPanel()),
      section('Account',
        field('Signed in as', h('div', { class: 'row' }, h('strong', {}, me.name), h('span', { class: 'chip' }, me.role),
          h('button', { type: 'button', class: 'btn ghost', onclick: signOut }, icon('logout', 18), 'Sign out'))),
        field('API keys', newKey, 'For Subsonic apps and scripts.'), keys),
      section('Keyboard shortcuts', h('dl', { class: 'shortcuts' }, SHORTCUTS.map(([k, d]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, d)])))));
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
    box.replaceChildren(
      h('div', { class: 'stat-tiles' },
        [['Songs', lib.tracks], ['Albums', lib.albums], ['Artists', lib.artists]].map(([l, v]) => h('div', { class: 'tile' }, h('div', { class: 'tile-v' }, (v ?? 0).toLocaleString()), h('div', { class: 'muted' }, l)))),
      h('div', { class: 'panel' },
        h('div', { class: 'row between' }, h('h2', {}, 'Library scan'), h('span', { class: 'chip ' + (scanning ? 'live' : '') }, scanning ? 'Scanning' : 'Idle')),
        h('div', { class: 'meter', role: 'progressbar', 'aria-label': 'Scan progress', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': scanning ? pct : 100 }, h('span', { style: { width: (scanning ? pct : 100) + '%' } })),
        h('p', { class: 'muted' }, scanning ? `${done.toLocaleString()} of ${total.toLocaleString()} files` : s.last?.finished_at ? `Last scan finished ${new Date(s.last.finished_at * (s.last.finished_at < 1e12 ? 1000 : 1)).toLocaleString()}` : 'Not scanned yet'),
        admin ? h('div', { class: 'row' },
          h('button', { type: 'button', class: 'btn primary', disabled: scanning, onclick: () => startScan(false) }, 'Scan for changes'),
          h('button', { type: 'button', class: 'btn', disabled: scanning, onclick: () => startScan(true) }, 'Full rescan')) : null),
      live.analysis ? h('div', { class: 'panel' }, h('h2', {}, 'Analysis'),
        h('div', { class: 'meter', role: 'progressbar', 'aria-label': 'Analysis progress', 'aria-valuenow': live.analysis.done, 'aria-valuemax': live.analysis.total }, h('span', { style: { width: `${(100 * (live.analysis.done || 0)) / (live.analysis.total || 1)}%` } })),
        h('p', { class: 'muted' }, `${live.analysis.done ?? 0} of ${live.analysis.total ?? 0} songs analysed`)) : null,
      metadataPanel(meta));
  };
  const startScan = async (full) => {
    try {
      await api('/scan', { method: 'POST', body: { full } });
    } catch (e) { toast(e.message, { error: true }); return; }
    app().state.live.scanning = true;
    toast(full ? 'Full rescan started' : 'Scan started');
    render().catch(() => {});
  };
  const renderErrors = async () => {
    if (!admin) return;
    const { items } = await api('/scan/errors', { signal: ctx.signal });
    errorsHost.replaceChildren(h('section', { class: 'panel', 'aria-label': 'Scan errors' },
      h('div', { class: 'row between' }, h('h2', {}, 'Files the scan could not read'), h('span', { class: 'chip' }, String(items.length))),
      items.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'File'), h('th', { scope: 'col' }, 'Reason'))),
        h('tbody', {}, items.map((e) => h('tr', {}, h('td', { class: 'mono' }, e.path), h('td', {}, e.reason))))))
        : h('p', { class: 'muted' }, 'Every file was read.')));
  };
  await Promise.all([render(), renderErrors()]);
  // live updates redraw in the background: one that the page's leaving cuts short (or that finds the
  // node away) leaves what is shown
  const quietly = (p) => p.catch(() => {});
  const onLive = debounce(() => { quietly(render()); if (!app().state.live.scanning) quietly(renderErrors()); }, 200);
  app().live.addEventListener('change', onLive);
  ctx.onLeave(() => app().live.removeEventListener('change', onLive));
  return page('Node status', header('Node status', { sub: 'Live from the node (server-sent events).' }), box, errorsHost);
}

// -- federation (lights up when the node serves /api/v1/federation/...) --------------------------------------
const TTLS = [['1h', '1 hour'], ['24h', '24 hours'], ['7d', '7 days'], ['30d', '30 days']];

function ago(ts) {
  if (!ts) return null;
  const s = Math.max(0, Date.now() / 1000 - (ts > 1e12 ? ts / 1000 : ts));
  if (s < 45) return 'now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date((ts > 1e12 ? ts : ts * 1000)).toLocaleDateString();
}

function memberCard(m, { folder, owner, onRevoke }) {
  const name = m.name || `Node ${fed.shortId(m.node_id)}`;
  const stat = (label, value, title) => h('div', { class: 'mstat', title: title || null }, h('dt', {}, label), h('dd', {}, value ?? '—'));
  const browse = m.self ? (folder ? `/tracks?folder=${enc(folder.id)}` : '/tracks') : folder ? `/tracks?folder=${enc(folder.id)}` : null;
  return h('article', { class: 'member' + (m.online ? ' is-online' : ''), dataset: { node: m.node_id }, 'aria-label': `${name}, ${m.online ? 'online' : 'offline'}` },
    h('div', { class: 'member-head' },
      h('div', { class: 'member-avatar', style: { '--ph': hue(m.node_id) }, 'aria-hidden': 'true' }, initials(name.replace(/^node\s+/i, '')) || '?',
        h('span', { class: 'presence' + (m.online ? ' on' : '') })),
      h('div', { class: 'member-id' },
        h('h3', { class: 'member-name' }, name),
        h('div', { class: 'mono muted tiny-id', title: m.node_id }, m.node_id)),
      h('span', { class: 'chip state ' + (m.online ? 'live' : 'off') }, m.online ? 'Online' : 'Offline')),
    h('div', { class: 'member-tags' },
      m.self ? h('span', { class: 'tag self' }, 'This node') : null,
      m.admin ? h('span', { class: 'tag' }, 'Admin') : h('span', { class: 'tag' }, 'Member')),
    h('dl', { class: 'member-stats' },
      stat('Songs', (m.tracks ?? 0).toLocaleString()),
      stat('Latency', m.self ? 'local' : m.rtt_ms != null ? `${Math.round(m.rtt_ms)} ms` : null, 'Round-trip time'),
      stat('Last seen', m.self ? 'now' : ago(m.last_seen), m.last_seen ? new Date(m.last_seen * 1000).toLocaleString() : null),
      stat('Served', fmtBytes(m.bytes_served || 0), m.self ? 'Sent to other members' : 'Sent by this node to the member'),
      stat('Fetched', fmtBytes(m.bytes_fetched || 0), m.self ? 'Received from other members' : 'Received by this node from the member')),
    h('div', { class: 'member-actions' },
      browse ? h('a', { href: browse, class: 'btn small', 'aria-label': `Browse the music of ${name}` }, icon('tracks', 16), 'Browse music') : h('span', { class: 'muted small' }, 'No music shared yet'),
      owner && !m.self ? h('button', { type: 'button', class: 'btn small ghost danger-text', onclick: () => onRevoke(m, name) }, 'Revoke') : null));
}

export async function federation(ctx) {
  if (!fed.available()) {
    return page('Federation', header('Federation'), h('div', { class: 'empty' }, h('p', { class: 'muted' }, 'This node does not run the federation yet.')));
  }
  const role = app().state.user.role;
  const owner = role === 'owner', admin = owner || role === 'admin';
  const membersHost = h('div', { class: 'members', role: 'list', 'aria-label': 'Members' });
  const tiles = h('div', { class: 'stat-tiles fed-tiles' });
  const pinsHost = h('div');
  const sub = h('p', { class: 'muted' });
  const title = h('h1', {}, 'Federation');
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
    title.textContent = r.name || 'Federation';
    sub.textContent = inFederation ? `${plural(items.length, 'member')} · ${online} online · federation ${String(r.federation_id).slice(0, 12)}` : '';
    const others = items.filter((m) => !m.self);
    const tile = (v, l) => h('div', { class: 'tile' }, h('div', { class: 'tile-v' }, v), h('div', { class: 'muted' }, l));
    tiles.replaceChildren(
      tile(`${online}/${items.length}`, 'members online'),
      tile(items.reduce((n, m) => n + (m.tracks || 0), 0).toLocaleString(), 'songs across the federation'),
      tile(fmtBytes(others.reduce((n, m) => n + (m.bytes_fetched || 0), 0)), 'streamed from members'),
      tile(fmtBytes(others.reduce((n, m) => n + (m.bytes_served || 0), 0)), 'served to members'));
    const local = folders.filter((f) => !f.node);
    membersHost.replaceChildren(...items.map((m) => {
      const folder = m.self ? (local.length === 1 ? local[0] : null) : folders.find((f) => f.node === m.node_id);
      const card = memberCard(m, { folder, owner, onRevoke: revoke });
      card.setAttribute('role', 'listitem');
      return card;
    }));
    revokedHost.textContent = r.revoked?.length
      ? `Revoked: ${r.revoked.map((id) => (names.has(id) ? `${names.get(id)} (${fed.shortId(id)})` : `Node ${fed.shortId(id)}`)).join(', ')}` : '';
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
    const ok = await confirmDialog(`Revoke ${name}?`, 'Every member will refuse it from now on, and its music leaves this federation. This cannot be undone; the node would need a new invite.', { ok: 'Revoke', danger: true });
    if (!ok) return;
    try {
      await api(`/federation/members/${enc(m.node_id)}`, { method: 'DELETE' });
      toast(`${name} was revoked`);
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
    const uses = h('input', { type: 'number', min: 1, max: 100, value: 1, name: 'uses', class: 'input', 'aria-label': 'Uses' });
    const ttl = h('select', { class: 'select', name: 'ttl', 'aria-label': 'Valid for' }, TTLS.map(([v, l]) => h('option', { value: v, selected: v === '24h' }, l)));
    const asAdmin = h('input', { type: 'checkbox', name: 'admin', class: 'switch', 'aria-label': 'Invite as an admin' });
    const result = h('div', { class: 'invite-result', 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'btn primary' }, icon('plus', 18), 'Create invite');
    const form = h('form', { class: 'invite-form' },
      h('label', { class: 'field' }, h('span', {}, 'Uses'), uses),
      h('label', { class: 'field' }, h('span', {}, 'Valid for'), ttl),
      owner && fedAdmin ? h('label', { class: 'field check' }, h('span', {}, 'Admin'), h('span', { class: 'row' }, asAdmin, h('span', { class: 'small muted' }, 'can invite'))) : null,
      submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      submit.disabled = true;
      try {
        const n = Math.max(1, Math.min(100, Number(uses.value) || 1));
        const inv = await api('/federation/invites', { method: 'POST', body: { uses: n, ttl: ttl.value, admin: asAdmin.checked } });
        const until = inv.expires_at ? new Date(inv.expires_at * (inv.expires_at < 1e12 ? 1000 : 1)) : null;
        const copy = h('button', { type: 'button', class: 'btn small copy-btn', 'aria-label': 'Copy the invite code' }, icon('copy', 16), 'Copy');
        copy.addEventListener('click', async () => {
          const ok = await copyText(inv.code);
          copy.replaceChildren(icon(ok ? 'done' : 'copy', 16), ok ? 'Copied' : 'Select and copy');
          if (!ok) { const sel = getSelection(); sel.selectAllChildren(code); }
          setTimeout(() => copy.replaceChildren(icon('copy', 16), 'Copy'), 2000);
        });
        const code = h('pre', { class: 'invite-code', tabindex: '0', 'aria-label': 'Invite code' }, inv.code);
        result.replaceChildren(h('div', { class: 'invite-card' },
          h('div', { class: 'row between' },
            h('div', {}, h('strong', {}, 'Invite code'), h('span', { class: 'muted small' }, ' · shown once, copy it now')), copy),
          code,
          h('p', { class: 'muted small' },
            `${plural(inv.uses ?? n, 'use')}${until ? ` · valid until ${until.toLocaleString()}` : ''}. On the new node, paste it under Federation → Join, or run `,
            h('code', { class: 'inline' }, 'sonantica join <code>'), '.')));
        fed.invalidate();
        if (!inFederation) refresh();
      } catch (ex) { toast(ex.message, { error: true }); }
      submit.disabled = false;
    });
    invitePanel = h('section', { class: 'panel', 'aria-labelledby': 'invite-title' },
      h('div', {}, h('h2', { id: 'invite-title' }, 'Invite a node'),
        h('p', { class: 'muted small' }, inFederation ? 'Make a code another node can join with.' : 'The first invite founds the federation, with this node in it.')),
      form, result);
  }

  // join (owner) ------------------------------------------------------------------------------
  let joinPanel = null;
  if (owner && !inFederation && has('/api/v1/federation/join')) { // a node is in one federation at most
    const code = h('textarea', { class: 'input mono code-input', name: 'code', rows: 3, required: true, spellcheck: 'false', autocomplete: 'off', 'aria-label': 'Invite code', placeholder: 'snt1…' });
    const submit = h('button', { type: 'submit', class: 'btn' }, icon('federation', 18), 'Join');
    const form = h('form', { class: 'join-form' }, code, h('div', { class: 'row end' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const value = code.value.trim();
      if (!value) return;
      submit.disabled = true;
      try {
        await api('/federation/join', { method: 'POST', body: { code: value } });
        toast('Joined the federation');
        fed.invalidate();
        await settle((x) => !!x.federation_id);
        go(location.pathname);
      } catch (ex) { if (ex.name !== 'AbortError') toast(ex.message, { error: true }); submit.disabled = false; }
    });
    joinPanel = h('section', { class: 'panel', 'aria-labelledby': 'join-title' },
      h('div', {}, h('h2', { id: 'join-title' }, 'Join with a code'),
        h('p', { class: 'muted small' }, 'Paste an invite made on a member node. This node’s music is then shared with the federation.')),
      form);
  }

  // pinned albums ------------------------------------------------------------------------------
  const renderPins = async () => {
    if (!has('/api/v1/federation/pins')) return;
    let items = [];
    try { items = (await api('/federation/pins', { signal: ctx.signal })).items || []; } catch { return; }
    pinsHost.replaceChildren(h('section', { class: 'panel', 'aria-labelledby': 'pins-title' },
      h('div', { class: 'row between' }, h('h2', { id: 'pins-title' }, 'Pinned albums'), h('span', { class: 'chip' }, String(items.length))),
      items.length ? h('ul', { class: 'pins' }, items.map((a) => h('li', { class: 'pin-row', dataset: { id: a.id } },
        cover(a.cover_url, { size: 64, seed: a.id, cls: 'tiny' }),
        h('div', { class: 'tmain' }, h('a', { href: `/album/${enc(a.id)}`, class: 'ttitle' }, a.name || 'Unknown album'), h('div', { class: 'tsub' }, a.artist || '')),
        h('span', { class: 'chip ' + (a.replicated ? 'live' : 'pending') }, a.replicated ? 'Replicated here' : 'Copying…'),
        admin ? h('button', { type: 'button', class: 'btn small ghost', 'aria-label': `Unpin ${a.name}`, onclick: async () => {
          try { await api(`/federation/pins/${enc(a.id)}`, { method: 'DELETE' }); toast(`Unpinned “${a.name}”`); renderPins(); } catch (e) { toast(e.message, { error: true }); }
        } }, 'Unpin') : null)))
        : h('p', { class: 'muted' }, 'Pin an album another member holds to keep a full copy on this node: open the album and choose Keep a copy.')));
  };

  // leave (owner) ---------------------------------------------------------------------------------
  const leavePanel = owner && inFederation && has('/api/v1/federation/leave') ? h('section', { class: 'panel danger-zone', 'aria-labelledby': 'leave-title' },
    h('div', { class: 'row between' },
      h('div', {}, h('h2', { id: 'leave-title' }, 'Leave the federation'),
        h('p', { class: 'muted small' }, 'Members stop seeing this node’s music, and their music disappears from here.')),
      h('button', { type: 'button', class: 'btn danger', onclick: async () => {
        const ok = await confirmDialog(`Leave ${r.name || 'the federation'}?`, 'This node stops sharing and loses access to the other members’ music. Joining again needs a new invite.', { ok: 'Leave', danger: true });
        if (!ok) return;
        try {
          await api('/federation/leave', { method: 'POST' });
          toast('This node left the federation');
          fed.invalidate();
          await settle((x) => !x.federation_id);
          go(location.pathname);
        } catch (e) { if (e.name !== 'AbortError') toast(e.message, { error: true }); }
      } }, 'Leave federation'))) : null;

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
    h('div', {}, h('div', { class: 'eyebrow' }, 'Federation'), title, sub));
  if (!inFederation) {
    return page('Federation', head,
      h('div', { class: 'fed-empty panel' }, h('div', { class: 'fed-empty-icon', 'aria-hidden': 'true' }, icon('federation', 40)),
        h('h2', {}, 'Not in a federation yet'),
        h('p', { class: 'muted' }, 'Nodes in a federation share their music with each other: every member’s songs show up here, streamed from whoever holds them.'),
        h('p', { class: 'muted small' }, admin ? 'Create an invite to found one, or join with a code from another node.' : 'Ask the owner of this node to join one.')),
      h('div', { class: 'fed-grid' }, invitePanel, joinPanel));
  }
  return page('Federation', head, tiles,
    h('section', { class: 'shelf', 'aria-label': 'Members' }, h('div', { class: 'shelf-head' }, h('h2', {}, 'Members'), revokedHost), membersHost),
    h('div', { class: 'fed-grid' }, invitePanel, joinPanel), pinsHost, leavePanel);
}

// -- stats (lights up when the node serves /api/v1/stats) ------------------------------------------------------
export async function stats(ctx) {
  if (!has('/api/v1/stats')) {
    return page('Your stats', header('Your stats'), h('div', { class: 'empty' }, h('p', { class: 'muted' }, 'Listening stats are not available on this node yet.')));
  }
  const period = ctx.params.get('period') || 'month';
  const s = await api('/stats' + qs({ period }), { signal: ctx.signal });
  const tabs = h('div', { class: 'segmented', role: 'tablist', 'aria-label': 'Period' },
    [['week', 'Week'], ['month', 'Month'], ['year', 'Year'], ['all', 'All time']].map(([v, l]) => h('a', { href: `/stats?period=${v}`, role: 'tab', 'aria-selected': String(v === period), class: v === period ? 'on' : '' }, l)));
  const bars = (title, values, labels) => values?.length ? h('section', { class: 'panel chart' }, h('h2', {}, title),
    h('div', { class: 'bars', role: 'img', 'aria-label': `${title}: ` + values.map((v, i) => `${labels[i]} ${Math.round(v)}`).join(', ') },
      values.map((v, i) => h('div', { class: 'bar', title: `${labels[i]}: ${Math.round(v)} min` }, h('span', { style: { height: `${(100 * v) / (Math.max(...values) || 1)}%` } }), h('small', {}, labels[i]))))) : null;
  const top = (title, items, label) => items?.length ? h('section', { class: 'panel' }, h('h2', {}, title),
    h('ol', { class: 'toplist' }, items.slice(0, 10).map((x) => h('li', {}, h('span', {}, label(x)), h('span', { class: 'muted' }, plural(x.plays ?? x.count ?? 0, 'play')))))) : null;
  const totals = s.totals || {};
  const recs = await optional('/recommendations?count=12', '/api/v1/recommendations');
  const topList = s.top || {};
  const hours = (s.by_hour || []).map((x) => (x.ms || 0) / 60000);
  const days = (s.by_weekday || []).map((x) => (x.ms || 0) / 60000);
  const dayNames = (s.by_weekday || []).map((x) => (x.name || '').slice(0, 3));
  const empty = !totals.plays;
  return page('Your stats', header('Your stats', { sub: s.from ? `${s.from} – ${s.to || 'today'}` : null, actions: [tabs] }),
    h('div', { class: 'stat-tiles' },
      h('div', { class: 'tile' }, h('div', { class: 'tile-v' }, Math.round(totals.minutes || 0).toLocaleString()), h('div', { class: 'muted' }, 'minutes listened')),
      h('div', { class: 'tile' }, h('div', { class: 'tile-v' }, (totals.plays || 0).toLocaleString()), h('div', { class: 'muted' }, 'plays')),
      s.streaks?.current != null ? h('div', { class: 'tile' }, h('div', { class: 'tile-v' }, String(s.streaks.current)), h('div', { class: 'muted' }, 'day streak')) : null),
    empty ? h('div', { class: 'empty' }, h('p', { class: 'muted' }, 'Nothing listened in this period yet: play some music and come back.')) : h('div', { class: 'chart-grid' },
      bars('By hour', hours, hours.map((_, i) => String(i))),
      bars('By weekday', days, dayNames),
      top('Top artists', topList.artists, (x) => x.name),
      top('Top albums', topList.albums, (x) => `${x.name}${x.artist ? ' — ' + x.artist : ''}`),
      top('Top songs', topList.tracks, (x) => `${x.name}${x.artist ? ' — ' + x.artist : ''}`),
      top('Top genres', topList.genres, (x) => x.name)),
    recs?.items?.length ? h('section', { class: 'shelf' }, h('h2', {}, 'Recommended for you'),
      trackList(recs.items.filter((t) => t.title), { covers: true, label: 'Recommended songs' })) : null);
}

function reasonText(reason) {
  if (!reason) return '';
  if (typeof reason === 'string') return reason;
  return reason.text || reason.message || reason.kind || '';
}
