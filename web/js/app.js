// The app shell: sign-in and first run, layout, history routing, the player bar, keyboard
// shortcuts, live node events (SSE) and the service worker.

import { api, bus, has, hasPrefix, loadCapabilities } from './api.js';
import { player } from './player.js';
import { reportPlays } from './plays.js';
import { keepResumePositions } from './resume.js';
import { sharesView } from './sharing.js';
import { radioView } from './radio.js';
import './seekbar.js';
import { cover, fmtTime, h, icon, iconButton, repeatLabel, toast } from './ui.js';
import { fmtNumber, tr } from './i18n.js';
import * as views from './views.js';
import { smartEditor } from './smart.js';
import * as podcasts from './podcasts.js';
import { prime as primeFederation, sourceBadge } from './federation.js';

const state = { user: null, live: { scanning: false, done: 0, total: 0, analysis: null }, online: navigator.onLine };
export const app = { state, navigate, refreshPlaylists: () => renderSidebarPlaylists(), live: new EventTarget() };
window.__sonantica = Object.assign(window.__sonantica || {}, { app });

// -- theme ---------------------------------------------------------------------------------
const themeQuery = matchMedia('(prefers-color-scheme: light)');
export function applyTheme() {
  const choice = localStorage.getItem('sonantica.theme') || 'system';
  const theme = choice === 'system' ? (themeQuery.matches ? 'light' : 'dark') : choice;
  document.documentElement.dataset.theme = theme;
  document.querySelectorAll('meta[name=theme-color]').forEach((m) => m.setAttribute('content', theme === 'light' ? '#f6f5f8' : '#0d0d12'));
}
themeQuery.addEventListener('change', applyTheme);
applyTheme();

// -- routing -------------------------------------------------------------------------------
const ROUTES = [
  [/^\/(home)?$/, views.home], [/^\/albums$/, views.albums], [/^\/album\/([^/]+)$/, views.album],
  [/^\/artists$/, views.artists], [/^\/artist\/([^/]+)$/, views.artist], [/^\/genres$/, views.genres],
  [/^\/genre\/([^/]+)$/, views.genre], [/^\/tracks$/, views.tracks], [/^\/search$/, views.search],
  [/^\/starred$/, views.starred], [/^\/playlists$/, views.playlists], [/^\/playlist\/([^/]+)$/, views.playlist],
  [/^\/playlists\/smart(?:\/([^/]+))?$/, smartEditor],
  [/^\/queue$/, views.queue], [/^\/now$/, views.nowPlaying], [/^\/downloads$/, views.downloads],
  [/^\/settings$/, views.settings], [/^\/status$/, views.status], [/^\/federation$/, views.federation],
  [/^\/stats$/, views.stats],
  [/^\/shares$/, (ctx) => sharesView(ctx, state.user)],
  [/^\/podcasts$/, podcasts.podcasts], [/^\/podcast\/([^/]+)$/, podcasts.channel],
  [/^\/radio$/, (ctx) => radioView(ctx, state.user)],
];
let current = null;

export function navigate(href, { replace = false } = {}) {
  const url = new URL(href, location.href);
  if (url.pathname + url.search === location.pathname + location.search && !replace) return route();
  const main = document.getElementById('main');
  if (main && !replace) history.replaceState({ ...history.state, scroll: main.scrollTop }, ''); // Back returns here
  history[replace ? 'replaceState' : 'pushState']({}, '', url.pathname + url.search + url.hash);
  return route();
}

async function route() {
  const main = document.getElementById('main');
  if (!main) return;
  current?.controller.abort();
  current?.leave.forEach((fn) => fn());
  const path = decodeURI(location.pathname).replace(/\/+$/, '') || '/';
  const [, view = views.notFound, params = []] = ROUTES.map(([re, v]) => [re, v, re.exec(path)])
    .map(([, v, m]) => (m ? [null, v, m.slice(1)] : null)).find(Boolean) || [];
  const ctx = { controller: new AbortController(), leave: [], params: new URLSearchParams(location.search) };
  ctx.signal = ctx.controller.signal;
  ctx.onLeave = (fn) => ctx.leave.push(fn);
  current = ctx;
  for (const a of document.querySelectorAll('.nav a, .tabbar a')) {
    const target = a.getAttribute('href');
    const active = target === '/' ? path === '/' || path === '/home' : path === target || path.startsWith(target + '/') ||
      (target === '/albums' && path.startsWith('/album/')) || (target === '/playlists' && path.startsWith('/playlist/')) ||
      (target === '/artists' && path.startsWith('/artist/')) || (target === '/podcasts' && path.startsWith('/podcast/'));
    a.toggleAttribute('aria-current', false);
    if (active) a.setAttribute('aria-current', 'page');
  }
  document.body.dataset.route = path.split('/')[1] || 'home';
  main.setAttribute('aria-busy', 'true');
  try {
    const node = await view(ctx, ...params.map((p) => (p === undefined ? p : decodeURIComponent(p))));
    if (ctx !== current) return;
    main.replaceChildren(node);
    const title = node.dataset?.title;
    document.title = title ? `${title} · Sonántica` : 'Sonántica';
  } catch (err) {
    if (err.name === 'AbortError' || ctx !== current) return;
    main.replaceChildren(views.errorView(err));
  } finally {
    if (ctx === current) main.removeAttribute('aria-busy');
  }
  if (!history.state?.keepScroll) main.scrollTo?.(0, history.state?.scroll || 0); // Back: where the page was left
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.target || a.hasAttribute('download') || a.origin !== location.origin) return;
  const path = a.pathname;
  if (path.startsWith('/api/') || path.startsWith('/static/') || path.startsWith('/rest/')) return;
  e.preventDefault();
  navigate(a.href);
});
addEventListener('popstate', route);

// -- sign-in and first run -----------------------------------------------------------------
async function boot() {
  registerServiceWorker();
  const capsReady = loadCapabilities();
  const hint = JSON.parse(localStorage.getItem('sonantica.user') || 'null');
  if (hint) {
    try {
      state.user = (await api('/me')).user;
    } catch (err) {
      if (err.status === 0 || err.code === 'offline') state.user = hint; // offline: downloaded music still plays
    }
  }
  await capsReady;
  if (state.user) return startApp();
  let setup = { needed: false, name: 'Sonántica' };
  try { setup = await api('/setup'); } catch { /* offline */ }
  if (setup.signed_in) { // a sign-in proxy named us (docs/proxy-login.md)
    try { state.user = (await api('/me')).user; return startApp(); } catch { /* sign in below */ }
  }
  renderAuth(setup);
}

function renderAuth(setup) {
  const root = document.getElementById('app');
  const first = setup.needed;
  const err = h('p', { class: 'form-error', role: 'alert' });
  const user = h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: first ? 'new-password' : 'current-password', required: true, minlength: first ? 8 : undefined });
  const token = h('input', { name: 'setup_token', autocomplete: 'off' });
  const submit = h('button', { type: 'submit', class: 'btn primary wide' }, first ? tr('auth.create_owner') : tr('auth.sign_in'));
  const form = h('form', { class: 'auth-card', 'aria-labelledby': 'auth-title' },
    h('div', { class: 'auth-logo', 'aria-hidden': 'true' }),
    h('h1', { id: 'auth-title' }, first ? tr('auth.welcome', { name: setup.name || 'Sonántica' }) : tr('auth.sign_in')),
    h('p', { class: 'muted' }, first ? tr('auth.first_run') : setup.name ? tr('auth.to_node', { name: setup.name }) : tr('auth.to_your_node')),
    h('label', { class: 'field' }, h('span', {}, tr('auth.user_name')), user),
    h('label', { class: 'field' }, h('span', {}, tr('auth.password')), pass),
    first && !setup.loopback ? h('label', { class: 'field' }, h('span', {}, tr('auth.setup_token')), token) : null,
    err, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    submit.disabled = true;
    try {
      const body = { username: user.value.trim(), password: pass.value };
      if (first && token.value) body.setup_token = token.value.trim();
      const r = await api(first ? '/setup' : '/auth/login', { method: 'POST', body });
      state.user = r.user;
      startApp();
    } catch (ex) {
      err.textContent = authError(ex);
      submit.disabled = false;
    }
  });
  root.className = 'auth';
  root.replaceChildren(form);
  user.focus();
}

/** Why the node refused: in the app's language for what a user can meet here, else the node's words. */
function authError(ex) {
  return { bad_credentials: tr('auth.bad_credentials'), rate_limited: tr('auth.rate_limited'), forbidden: tr('auth.setup_forbidden'),
    conflict: tr('auth.owner_exists') }[ex.code] || ex.message;
}

bus.addEventListener('unauthorized', () => {
  if (!state.user) return;
  state.user = null;
  localStorage.removeItem('sonantica.user');
  boot();
});

export async function signOut() {
  try { await api('/auth/logout', { method: 'POST' }); } catch { /* signed out locally anyway */ }
  localStorage.removeItem('sonantica.user');
  state.user = null;
  player.pause();
  events?.close();
  location.assign('/');
}

// -- the shell -------------------------------------------------------------------------------
function navLink(href, name, label) {
  return h('a', { href, class: 'nav-link' }, icon(name, 20), h('span', {}, label));
}

function startApp() {
  localStorage.setItem('sonantica.user', JSON.stringify(state.user));
  const admin = ['owner', 'admin'].includes(state.user.role);
  const root = document.getElementById('app');
  root.className = 'app';
  const liveNav = [
    navLink('/status', 'status', tr('nav.status')),
    hasPrefix('/api/v1/federation') ? navLink('/federation', 'federation', tr('nav.federation')) : null,
    has('/api/v1/stats') ? navLink('/stats', 'stats', tr('nav.stats')) : null,
  ];
  const sidebar = h('aside', { class: 'sidebar', 'aria-label': tr('nav.sidebar') },
    h('a', { href: '/', class: 'brand', 'aria-label': tr('nav.brand_home') }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), h('span', {}, 'Sonántica')),
    h('nav', { class: 'nav', 'aria-label': tr('nav.library') },
      navLink('/', 'home', tr('nav.home')), navLink('/search', 'search', tr('nav.search')), navLink('/albums', 'album', tr('nav.albums')),
      navLink('/artists', 'artist', tr('nav.artists')), navLink('/genres', 'genre', tr('nav.genres')), navLink('/tracks', 'tracks', tr('nav.songs')),
      navLink('/starred', 'heart', tr('nav.starred')),
      has('/api/v1/stations') ? navLink('/radio', 'radio', tr('radio.title')) : null),
    h('nav', { class: 'nav', 'aria-label': tr('nav.your_music') },
      h('div', { class: 'nav-title' }, tr('nav.your_music')),
      navLink('/playlists', 'playlist', tr('nav.playlists')), navLink('/queue', 'queue', tr('nav.queue')), navLink('/downloads', 'download', tr('nav.downloads')),
      has('/api/v1/shares') ? navLink('/shares', 'share', tr('sharing.page_title')) : null,
      has('/api/v1/podcasts') ? navLink('/podcasts', 'podcast', tr('nav.podcasts')) : null),
    h('nav', { class: 'nav', 'aria-label': tr('nav.node') }, h('div', { class: 'nav-title' }, tr('nav.node')), liveNav, navLink('/settings', 'settings', tr('nav.settings'))),
    h('div', { class: 'nav-title', id: 'sidebar-playlists-title', hidden: true }, tr('nav.playlists')),
    h('div', { class: 'sidebar-playlists', id: 'sidebar-playlists' }),
    h('div', { class: 'live-pill', id: 'live-pill', hidden: true, role: 'status', 'aria-live': 'polite' }));
  const search = h('input', { type: 'search', class: 'top-search', placeholder: tr('search.placeholder'), 'aria-label': tr('nav.search'), autocomplete: 'off', id: 'top-search' });
  search.addEventListener('input', () => {
    const q = search.value;
    if (location.pathname !== '/search') navigate('/search?q=' + encodeURIComponent(q));
    else { history.replaceState({ keepScroll: true }, '', '/search?q=' + encodeURIComponent(q)); views.searchInput(q); }
  });
  const topbar = h('header', { class: 'topbar' },
    iconButton('chevron', tr('nav.back'), () => history.back(), { class: 'back' }),
    h('div', { class: 'search-wrap' }, icon('search', 18), search),
    h('div', { class: 'offline-badge', id: 'offline-badge', hidden: state.online, role: 'status' }, tr('nav.offline')),
    h('a', { href: '/settings', class: 'avatar', 'aria-label': tr('nav.avatar', { name: state.user.name }), title: state.user.name }, (state.user.name || '?')[0].toUpperCase()));
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  const tabbar = h('nav', { class: 'tabbar', 'aria-label': tr('nav.sections') },
    navLink('/', 'home', tr('nav.home')), navLink('/search', 'search', tr('nav.search')), navLink('/albums', 'album', tr('nav.library_tab')),
    navLink('/playlists', 'playlist', tr('nav.playlists')), navLink('/downloads', 'download', tr('nav.offline')));
  root.replaceChildren(sidebar, h('div', { class: 'content' }, topbar, main), playerBar(), tabbar);
  document.body.classList.toggle('is-admin', admin);
  renderSidebarPlaylists();
  primeFederation();
  connectEvents();
  route();
}

async function renderSidebarPlaylists() {
  const host = document.getElementById('sidebar-playlists');
  if (!host) return;
  try {
    const { items } = await api('/playlists');
    document.getElementById('sidebar-playlists-title').hidden = !items.length;
    host.replaceChildren(...items.map((p) => h('a', { href: `/playlist/${encodeURIComponent(p.id)}`, class: 'nav-link small' }, h('span', {}, p.name))));
  } catch { /* offline */ }
}

// -- the player bar ------------------------------------------------------------------------------
function playerBar() {
  const art = h('a', { href: '/now', class: 'pb-art', 'aria-label': tr('player.now_playing') });
  const title = h('a', { href: '/now', class: 'pb-title' });
  const artist = h('div', { class: 'pb-artist' });
  const playBtn = h('button', { type: 'button', class: 'play-btn', 'aria-label': tr('player.play'), onclick: () => player.toggle() }, icon('play', 22));
  const shuffle = iconButton('shuffle', tr('player.shuffle'), () => player.setShuffle(!player.shuffle), { class: 'toggle', 'aria-pressed': 'false' });
  const repeat = iconButton('repeat', tr('player.repeat_off'), () => player.cycleRepeat(), { class: 'toggle', 'aria-pressed': 'false' });
  const seek = h('son-seekbar', { class: 'pb-seek', label: tr('player.seek') });
  const pos = h('span', { class: 'time' }, '0:00');
  const dur = h('span', { class: 'time' }, '0:00');
  const vol = h('input', { type: 'range', min: 0, max: 1, step: 0.01, value: player.settings.volume, class: 'volume', 'aria-label': tr('player.volume') });
  const mute = iconButton('volume', tr('player.mute'), () => player.toggleMute());
  vol.addEventListener('input', () => player.setVolume(Number(vol.value)));
  seek.addEventListener('seek', (e) => player.seek(e.detail));
  const bar = h('footer', { class: 'playerbar', 'aria-label': tr('player.player') },
    h('div', { class: 'pb-now' }, art, h('div', { class: 'pb-meta' }, title, artist)),
    h('div', { class: 'pb-center' },
      h('div', { class: 'pb-controls' }, shuffle, iconButton('prev', tr('player.previous'), () => player.prev()), playBtn,
        iconButton('next', tr('player.next'), () => player.next()), repeat),
      h('div', { class: 'pb-progress' }, pos, seek, dur)),
    h('div', { class: 'pb-right' },
      h('a', { href: '/now', class: 'icon-btn', 'aria-label': tr('player.lyrics_and_now_playing'), title: tr('player.now_playing') }, icon('lyrics')),
      h('a', { href: '/queue', class: 'icon-btn', 'aria-label': tr('nav.queue'), title: tr('nav.queue') }, icon('queue')),
      mute, vol),
    h('button', { type: 'button', class: 'pb-mini-play icon-btn', 'aria-label': tr('player.play_or_pause'), onclick: () => player.toggle() }, icon('play', 24)));

  const renderTrack = () => {
    const t = player.current;
    bar.classList.toggle('is-empty', !t);
    art.replaceChildren(cover(t?.cover_url, { size: 96, seed: t?.album_id || '', alt: '' }));
    title.textContent = t ? t.title || tr('track.unknown_title') : tr('player.nothing_playing');
    artist.replaceChildren(sourceBadge(t) || '', t?.artist ? h('a', { href: t.artist_id ? `/artist/${encodeURIComponent(t.artist_id)}` : '/artists' }, t.artist) : '');
    seek.setTrack(t);
    document.title = t && player.playing ? `${t.title} · ${t.artist || 'Sonántica'}` : document.title;
  };
  const renderState = () => {
    const playing = player.playing;
    for (const b of [playBtn, bar.querySelector('.pb-mini-play')]) {
      b.replaceChildren(icon(playing ? 'pause' : 'play', 22));
      b.setAttribute('aria-label', playing ? tr('player.pause') : tr('player.play'));
    }
    shuffle.setAttribute('aria-pressed', String(player.shuffle));
    repeat.setAttribute('aria-pressed', String(player.repeat !== 'off'));
    repeat.replaceChildren(icon(player.repeat === 'one' ? 'repeat1' : 'repeat', 20));
    repeat.setAttribute('aria-label', repeatLabel(player.repeat));
    repeat.title = repeatLabel(player.repeat);
    bar.classList.toggle('is-playing', playing);
  };
  const renderTime = () => {
    pos.textContent = fmtTime(player.position);
    dur.textContent = fmtTime(player.duration);
    if (!seek.dragging) seek.update(player.position, player.duration);
  };
  const renderVolume = () => {
    vol.value = player.settings.muted ? 0 : player.settings.volume;
    mute.replaceChildren(icon(player.settings.muted || player.settings.volume === 0 ? 'mute' : 'volume', 20));
    mute.setAttribute('aria-label', player.settings.muted ? tr('player.unmute') : tr('player.mute'));
  };
  player.addEventListener('track', renderTrack);
  player.addEventListener('state', renderState);
  player.addEventListener('time', renderTime);
  player.addEventListener('volume', renderVolume);
  player.addEventListener('error', (e) => toast(e.detail.message, { error: true }));
  queueMicrotask(() => { renderTrack(); renderState(); renderTime(); renderVolume(); });
  return bar;
}

// -- keyboard shortcuts ------------------------------------------------------------------------
export const SHORTCUTS = [
  [tr('shortcuts.space'), tr('shortcuts.play_pause')], ['← / →', tr('shortcuts.seek')], [tr('shortcuts.shift_arrows'), tr('shortcuts.prev_next')],
  ['N / P', tr('shortcuts.next_prev')], ['S', tr('player.shuffle')], ['R', tr('shortcuts.repeat')], ['M', tr('player.mute')],
  ['+ / −', tr('player.volume')], ['/', tr('nav.search')], ['Q', tr('nav.queue')], ['L', tr('shortcuts.now_and_lyrics')],
];

document.addEventListener('keydown', (e) => {
  if (!state.user || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t.closest?.('input, textarea, select, [contenteditable], dialog, [role=slider], .menu')) return;
  const k = e.key;
  const act = {
    ' ': () => player.toggle(), k: () => player.toggle(),
    ArrowRight: () => (e.shiftKey ? player.next() : player.seek(player.position + 5)),
    ArrowLeft: () => (e.shiftKey ? player.prev() : player.seek(player.position - 5)),
    n: () => player.next(), p: () => player.prev(), s: () => player.setShuffle(!player.shuffle),
    r: () => player.cycleRepeat(), m: () => player.toggleMute(),
    '+': () => player.setVolume(player.settings.volume + 0.05), '=': () => player.setVolume(player.settings.volume + 0.05),
    '-': () => player.setVolume(player.settings.volume - 0.05),
    '/': () => { const s = document.getElementById('top-search'); s?.focus(); s?.select(); },
    q: () => navigate('/queue'), l: () => navigate('/now'),
  }[k.length === 1 ? k.toLowerCase() : k];
  if (!act) return;
  if (k === ' ' && t.closest?.('button, a')) return; // space activates the focused control
  e.preventDefault();
  act();
});

// -- live events (SSE) ---------------------------------------------------------------------------
let events = null;
function connectEvents() {
  if (!window.EventSource || events) return;
  events = new EventSource('/api/v1/events');
  app.events = events;
  const pill = document.getElementById('live-pill');
  const show = () => {
    const { scanning, done, total, analysis } = state.live;
    let text = '';
    if (scanning) text = total ? tr('live.scanning_count', { done: fmtNumber(done), total: fmtNumber(total) }) : tr('live.scanning');
    else if (analysis && analysis.total && analysis.done < analysis.total) text = tr('live.analysing_count', { done: fmtNumber(analysis.done), total: fmtNumber(analysis.total) });
    pill.hidden = !text;
    pill.textContent = text;
    app.live.dispatchEvent(new Event('change'));
  };
  const on = (kind, fn) => events.addEventListener(kind, (e) => { try { fn(JSON.parse(e.data || '{}')); } catch { /* bad event */ } show(); });
  on('scan.started', () => { Object.assign(state.live, { scanning: true, done: 0, total: 0 }); });
  on('scan.progress', (d) => { Object.assign(state.live, { scanning: true, done: d.done || 0, total: d.total || 0 }); });
  on('scan.finished', (d) => { state.live.scanning = false; state.live.last = d; });
  on('library.changed', () => { toast(tr('live.library_updated')); });
  on('analysis.progress', (d) => { state.live.analysis = d; });
}

// -- online state and the service worker -----------------------------------------------------------
function setOnline(on) {
  state.online = on;
  const b = document.getElementById('offline-badge');
  if (b) b.hidden = on;
  document.body.classList.toggle('is-offline', !on);
}
addEventListener('online', () => setOnline(true));
addEventListener('offline', () => setOnline(false));

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).then((reg) => {
    window.__sonantica.swRegistered = true;
    reg.addEventListener('updatefound', () => {
      const w = reg.installing;
      w?.addEventListener('statechange', () => {
        if (w.state === 'activated' && navigator.serviceWorker.controller && window.__sonantica.swSeen) {
          toast(tr('app.updated'));
        }
      });
    });
    window.__sonantica.swSeen = !!navigator.serviceWorker.controller;
  }).catch((err) => console.warn('service worker not registered:', err.message));
}

reportPlays(player);
keepResumePositions(player);
boot();
