// Offline downloads: tracks, albums and playlists go into Cache Storage; the service worker answers
// the player's stream requests (with Range) and the API's pages from there when the node is away.

import { api } from './api.js';

export const CACHE = 'sonantica-offline-v1';
const COLLECTION = '/offline/collection/';
const TRACK = '/offline/track/';
const META = '/offline/meta/';

export const offlineEvents = new EventTarget();
const active = new Map(); // "kind:id" -> {done, total, bytes}
let known = null; // Set of downloaded track ids

function emit(detail) { offlineEvents.dispatchEvent(new CustomEvent('change', { detail })); }

export async function downloadedIds() {
  if (known) return known;
  known = new Set();
  if (!('caches' in window)) return known;
  const cache = await caches.open(CACHE);
  for (const req of await cache.keys()) {
    const p = new URL(req.url).pathname;
    if (p.startsWith(TRACK)) known.add(decodeURIComponent(p.slice(TRACK.length)));
  }
  return known;
}

export function progressOf(kind, id) { return active.get(`${kind}:${id}`) || null; }

export async function collections() {
  if (!('caches' in window)) return [];
  const cache = await caches.open(CACHE);
  const out = [];
  for (const req of await cache.keys()) {
    if (new URL(req.url).pathname.startsWith(COLLECTION)) {
      const r = await cache.match(req);
      try { out.push(await r.json()); } catch { /* damaged entry */ }
    }
  }
  return out.sort((a, b) => (b.saved_at || 0) - (a.saved_at || 0));
}

async function fetchWithProgress(url, onBytes) {
  const r = await fetch(url, { credentials: 'same-origin' });
  if (!r.ok) throw new Error(`the node answered ${r.status} for ${url}`);
  const type = r.headers.get('Content-Type') || 'application/octet-stream';
  if (!r.body) return { blob: await r.blob(), type };
  const reader = r.body.getReader();
  const chunks = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    onBytes(value.byteLength);
  }
  return { blob: new Blob(chunks, { type }), type };
}

/**
 * Download a collection ({kind: 'album'|'playlist'|'track', id, name, tracks, cover_url, page}).
 * ``page`` is the API path whose JSON is kept so the collection's page opens offline too.
 */
export async function download({ kind, id, name, tracks, cover_url, page, artist }) {
  const key = `${kind}:${id}`;
  if (active.has(key)) return;
  const state = { done: 0, total: tracks.length, bytes: 0 };
  active.set(key, state);
  emit({ kind, id, state });
  const cache = await caches.open(CACHE);
  const ids = await downloadedIds();
  try {
    navigator.storage?.persist?.().catch(() => {});
    if (page) {
      const r = await fetch('/api/v1' + page, { credentials: 'same-origin' });
      if (r.ok) await cache.put('/api/v1' + page, r);
    }
    const covers = new Set([cover_url, ...tracks.map((t) => t.cover_url)].filter(Boolean));
    for (const c of covers) {
      for (const size of [64, 300, 600]) {
        const u = `${c}?size=${size}`;
        if (await cache.match(u)) continue;
        const r = await fetch(u, { credentials: 'same-origin' }).catch(() => null);
        if (r?.ok) await cache.put(u, r);
      }
    }
    for (const t of tracks) {
      if (!ids.has(t.id)) {
        const { blob, type } = await fetchWithProgress(`/api/v1/tracks/${encodeURIComponent(t.id)}/stream?format=raw`, (n) => {
          state.bytes += n;
          emit({ kind, id, state });
        });
        await cache.put(META + 'track/' + encodeURIComponent(t.id), json(t));
        await cache.put(TRACK + encodeURIComponent(t.id), new Response(blob, {
          headers: { 'Content-Type': type, 'Content-Length': String(blob.size), 'X-Saved-At': String(Date.now()) },
        }));
        ids.add(t.id);
      }
      state.done++;
      emit({ kind, id, state });
    }
    await cache.put(COLLECTION + `${kind}/${encodeURIComponent(id)}`, json({
      kind, id, name, artist: artist || '', cover_url: cover_url || tracks[0]?.cover_url || null,
      track_ids: tracks.map((t) => t.id), tracks: tracks.map(slim), saved_at: Date.now(),
    }));
  } finally {
    active.delete(key);
    emit({ kind, id, state: null });
  }
}

const slim = ({ qid: _q, ...t }) => t;
const json = (data) => new Response(JSON.stringify(data), { headers: { 'Content-Type': 'application/json' } });

export async function isCollectionSaved(kind, id) {
  if (!('caches' in window)) return false;
  const cache = await caches.open(CACHE);
  return !!(await cache.match(COLLECTION + `${kind}/${encodeURIComponent(id)}`));
}

/** Remove a collection and the tracks that no other saved collection holds. */
export async function remove(kind, id) {
  const cache = await caches.open(CACHE);
  await cache.delete(COLLECTION + `${kind}/${encodeURIComponent(id)}`);
  const keep = new Set();
  for (const c of await collections()) c.track_ids.forEach((t) => keep.add(t));
  const ids = await downloadedIds();
  for (const t of [...ids]) {
    if (!keep.has(t)) {
      await cache.delete(TRACK + encodeURIComponent(t));
      await cache.delete(META + 'track/' + encodeURIComponent(t));
      ids.delete(t);
    }
  }
  if (kind === 'album') await cache.delete(`/api/v1/albums/${encodeURIComponent(id)}`);
  if (kind === 'playlist') await cache.delete(`/api/v1/playlists/${encodeURIComponent(id)}`);
  emit({ kind, id, state: null });
}

export async function removeAll() {
  await caches.delete(CACHE);
  known = null;
  emit({});
}

export async function estimate() {
  if (!navigator.storage?.estimate) return null;
  const e = await navigator.storage.estimate();
  return { usage: e.usage || 0, quota: e.quota || 0, persisted: await navigator.storage.persisted?.() };
}

export async function downloadAlbum(albumId) {
  const a = await api(`/albums/${encodeURIComponent(albumId)}`);
  return download({ kind: 'album', id: a.id, name: a.name, artist: a.artist, tracks: a.tracks, cover_url: a.cover_url, page: `/albums/${encodeURIComponent(a.id)}` });
}

export async function downloadPlaylist(playlistId) {
  const p = await api(`/playlists/${encodeURIComponent(playlistId)}`);
  return download({ kind: 'playlist', id: p.id, name: p.name, tracks: p.tracks, page: `/playlists/${encodeURIComponent(p.id)}` });
}

export function downloadTrack(t) {
  return download({ kind: 'track', id: t.id, name: t.title, artist: t.artist, tracks: [t], cover_url: t.cover_url });
}
