// Podcasts: the channels this node subscribes to (/podcasts) and one channel's episodes (/podcast/ID).
// Everyone plays episodes (through the main player, which resumes them from the node's bookmarks) and
// marks them played; admins subscribe by a feed's address, refresh, download, delete and set the keep
// policy. Everything a feed says is shown as text (h() sets textContent), never as markup.

import { api } from './api.js';
import { fmtDate, fmtDuration, tr, trn } from './i18n.js';
import { player } from './player.js';
import { confirmDialog, cover, h, icon, iconButton, toast } from './ui.js';

const enc = encodeURIComponent;
const POLL_MS = 1000; // while an episode downloads, its status is looked at this often
const app = () => window.__sonantica.app;
const isAdmin = () => ['owner', 'admin'].includes(app().state.user?.role);

// an episode heard to its end is marked played (for this user, on every device)
player.addEventListener('finished', (e) => {
  const t = e.detail;
  if (t?.media_type === 'podcast') api(`/podcasts/episodes/${enc(t.id)}/played`, { method: 'PUT', body: { played: true } }).catch(() => {});
});

function page(title, ...children) {
  return h('div', { class: 'page podcasts', dataset: { title } }, ...children);
}

/** An episode as the player's queue holds tracks (see player.srcFor for how it is streamed). */
export function episodeTrack(e, channel) {
  return {
    id: e.id, title: e.title, artist: channel?.title || e.channel_title || '', album: channel?.title || e.channel_title || '',
    duration: e.duration, cover_url: e.cover_url, media_type: 'podcast', stream_url: e.stream_url,
  };
}

// -- the list of channels ----------------------------------------------------------------------------
export async function podcasts(ctx) {
  const { items } = await api('/podcasts', { signal: ctx.signal });
  const admin = isAdmin();
  const url = h('input', { type: 'url', name: 'url', required: true, placeholder: tr('podcasts.feed_url_example'), 'aria-label': tr('podcasts.feed_url'), class: 'grow' });
  const subscribe = h('form', { class: 'row subscribe', onsubmit: async (e) => {
    e.preventDefault();
    const button = subscribe.querySelector('button');
    button.disabled = true;
    try {
      const c = await api('/podcasts', { method: 'POST', body: { url: url.value.trim() } });
      toast(tr('podcasts.subscribed', { title: c.title }));
      app().navigate(`/podcast/${enc(c.id)}`);
    } catch (err) {
      toast(err.message, { error: true, timeout: 8000 });
    } finally {
      button.disabled = false;
    }
  } }, url, h('button', { type: 'submit', class: 'btn primary' }, icon('plus', 18), tr('podcasts.subscribe')));
  const refresh = h('button', { type: 'button', class: 'btn', onclick: async () => {
    refresh.disabled = true;
    try {
      await api('/podcasts/refresh', { method: 'POST' });
      app().navigate(location.pathname, { replace: true });
    } catch (err) { toast(err.message, { error: true }); } finally { refresh.disabled = false; }
  } }, tr('podcasts.refresh_all'));
  const tile = (c) => h('a', { href: `/podcast/${enc(c.id)}`, class: 'card', role: 'listitem', 'aria-label': c.title },
    h('div', { class: 'card-art' }, cover(c.cover_url ? `${c.cover_url}?size=300` : null, { seed: c.title, alt: '' })),
    h('div', { class: 'card-title' }, c.title || c.url),
    h('div', { class: 'card-sub' }, c.status === 'error' ? tr('podcasts.feed_failed')
      : trn('podcasts.episode_count', c.episodes) + ' · ' + trn('podcasts.downloaded_count', c.downloaded)));
  return page(tr('podcasts.title'),
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, tr('podcasts.title')),
      h('p', { class: 'muted' }, admin ? tr('podcasts.intro_admin') : tr('podcasts.intro'))),
      admin && items.length ? h('div', { class: 'row' }, refresh) : null),
    admin ? subscribe : null,
    items.length ? h('div', { class: 'grid albums', role: 'list', 'aria-label': tr('podcasts.channels') }, items.map(tile))
      : h('div', { class: 'empty' }, h('p', { class: 'muted' }, tr('podcasts.none'))));
}

// -- one channel -------------------------------------------------------------------------------------
export async function channel(ctx, id) {
  let c = await api(`/podcasts/${enc(id)}`, { signal: ctx.signal });
  const admin = isAdmin();
  const list = h('ol', { class: 'episodes', 'aria-label': tr('podcasts.episodes') });
  const errorLine = h('p', { class: 'danger-text', role: 'status' });
  let timer = null;
  const render = () => {
    errorLine.textContent = c.status === 'error' ? tr('podcasts.feed_error', { reason: c.error || '' }) : '';
    list.replaceChildren(...c.items.map((e) => episodeRow(e, c, reload)));
    clearTimeout(timer);
    if (c.items.some((e) => e.status === 'downloading')) timer = setTimeout(reload, POLL_MS);
  };
  async function reload() {
    try {
      c = await api(`/podcasts/${enc(id)}`, { signal: ctx.signal });
      render();
    } catch (err) { if (err.name !== 'AbortError') toast(err.message, { error: true }); }
  }
  ctx.onLeave(() => clearTimeout(timer));
  const actions = admin ? [
    h('button', { type: 'button', class: 'btn', onclick: async (e) => {
      const button = e.currentTarget;
      button.disabled = true;
      try { c = await api(`/podcasts/${enc(id)}/refresh`, { method: 'POST' }); render(); } catch (err) { toast(err.message, { error: true }); await reload(); }
      button.disabled = false;
    } }, tr('podcasts.refresh')),
    h('button', { type: 'button', class: 'btn danger', onclick: async () => {
      if (!await confirmDialog(tr('podcasts.unsubscribe_title'), tr('podcasts.unsubscribe_text', { title: c.title }), { ok: tr('podcasts.unsubscribe'), danger: true })) return;
      await api(`/podcasts/${enc(id)}`, { method: 'DELETE' });
      app().navigate('/podcasts');
    } }, icon('trash', 18), tr('podcasts.unsubscribe')),
  ] : [];
  render();
  return page(c.title,
    h('div', { class: 'page-head album-head' },
      cover(c.cover_url ? `${c.cover_url}?size=300` : null, { seed: c.title, alt: '', cls: 'head-cover' }),
      h('div', {}, h('div', { class: 'eyebrow' }, tr('podcasts.podcast')), h('h1', {}, c.title),
        c.author ? h('p', { class: 'muted' }, c.author) : null,
        h('p', { class: 'description' }, c.description),
        h('p', { class: 'muted small' }, tr('podcasts.policy', { keep: c.keep_count || '∞', days: c.keep_days || '∞', auto: c.download_count })),
        errorLine,
        actions.length ? h('div', { class: 'row' }, ...actions) : null)),
    admin ? policyForm(c, (next) => { c = next; render(); }) : null,
    list);
}

function episodeRow(e, c, reload) {
  const admin = isAdmin();
  const act = (fn) => async (ev) => {
    ev.currentTarget.disabled = true;
    try { await fn(); } catch (err) { toast(err.message, { error: true }); }
    await reload();
  };
  const play = e.stream_url ? iconButton('play', tr('podcasts.play', { title: e.title }), () => {
    player.playList([episodeTrack(e, c)], 0);
    player.play();
  }, { class: 'play-episode' }) : null;
  const download = admin && ['new', 'error', 'deleted'].includes(e.status)
    ? iconButton('download', tr('podcasts.download', { title: e.title }), act(() => api(`/podcasts/episodes/${enc(e.id)}/download`, { method: 'POST' })))
    : null;
  const remove = admin && e.status === 'completed'
    ? iconButton('trash', tr('podcasts.delete', { title: e.title }), act(() => api(`/podcasts/episodes/${enc(e.id)}`, { method: 'DELETE' })))
    : null;
  const mark = e.played ? tr('podcasts.mark_unplayed', { title: e.title }) : tr('podcasts.mark_played', { title: e.title });
  const played = h('button', { type: 'button', class: 'icon-btn played-toggle', 'aria-pressed': String(e.played),
    'aria-label': mark, title: mark,
    onclick: act(() => api(`/podcasts/episodes/${enc(e.id)}/played`, { method: 'PUT', body: { played: !e.played } })) }, icon('done', 18));
  const facts = [e.published_at ? fmtDate(e.published_at) : null, e.duration ? fmtDuration(e.duration) : null,
    statusText(e)].filter(Boolean).join(' · ');
  return h('li', { class: 'episode' + (e.played ? ' played' : ''), dataset: { id: e.id, status: e.status } },
    h('div', { class: 'episode-main' }, h('div', { class: 'episode-title' }, e.title),
      h('div', { class: 'muted small episode-facts' }, facts),
      e.description ? h('details', {}, h('summary', {}, tr('podcasts.notes')), h('p', { class: 'description' }, e.description)) : null),
    h('div', { class: 'row episode-actions' }, play, download, remove, played));
}

function statusText(e) {
  switch (e.status) {
    case 'completed': return tr('podcasts.status_completed');
    case 'downloading': return tr('podcasts.status_downloading');
    case 'error': return tr('podcasts.status_error', { reason: e.error || '' });
    case 'skipped': return tr('podcasts.status_skipped', { reason: e.error || '' });
    case 'deleted': return tr('podcasts.status_deleted');
    default: return tr('podcasts.status_new');
  }
}

function policyForm(c, done) {
  const field = (name, label, value, max) => h('label', { class: 'field small' }, label,
    h('input', { type: 'number', name, min: 0, max, value: String(value), inputmode: 'numeric' }));
  const form = h('form', { class: 'row policy', 'aria-label': tr('podcasts.keep_policy'), onsubmit: async (ev) => {
    ev.preventDefault();
    const body = {};
    for (const k of ['keep_count', 'keep_days', 'download_count']) body[k] = Number(form.elements[k].value) || 0;
    try { done(await api(`/podcasts/${enc(c.id)}`, { method: 'PATCH', body })); toast(tr('podcasts.policy_saved')); } catch (err) { toast(err.message, { error: true }); }
  } },
  field('keep_count', tr('podcasts.keep_count'), c.keep_count, 10000),
  field('keep_days', tr('podcasts.keep_days'), c.keep_days, 36500),
  field('download_count', tr('podcasts.download_count'), c.download_count, 100),
  h('button', { type: 'submit', class: 'btn' }, tr('dialog.save')));
  return h('details', { class: 'policy-box' }, h('summary', {}, tr('podcasts.keep_policy')), form);
}
