// Listening events for the node's stats and recommendations (POST /api/v1/plays/events), when the
// node serves them. Events made offline wait in localStorage and go as one batch when back online.

import { api, has } from './api.js';

const PENDING = 'sonantica.plays.pending';
const PROGRESS_MS = 30000;

export function reportPlays(player) {
  let playId = null, trackId = null, lastProgress = 0, ended = false, remote = null;
  const enabled = () => has('/api/v1/plays/events');
  const send = async (event, extra = {}) => {
    if (!enabled() || !trackId) return null;
    const body = { event, track_id: trackId, position_ms: Math.round(player.position * 1000), client: 'web', at: Date.now(), ...extra };
    if (playId) body.play_id = playId;
    if (remote) Object.assign(body, remote); // a member's song: the node knows it by these facts
    if (!navigator.onLine) return queue(body);
    try {
      return await api('/plays/events', { method: 'POST', body });
    } catch (err) {
      if (err.status === 0 || err.status >= 500) queue(body);
      return null;
    }
  };
  player.addEventListener('track', async () => {
    if (trackId && playId && !ended) send('skip');
    const t = player.current;
    trackId = t?.media_type === 'podcast' ? null : t?.id || null; // listening stats are about music
    remote = t?.source ? {
      source_node: t.source,
      meta: { title: t.title, artist: t.artist, artists: t.artists, album: t.album, album_artist: t.album_artist, album_id: t.album_id,
        duration_ms: Math.round((t.duration || 0) * 1000), genres: t.genres || [] },
    } : null;
    playId = null;
    ended = false;
    lastProgress = 0;
  });
  let started = false;
  player.addEventListener('state', async () => {
    if (!trackId) return;
    if (player.playing && !playId && !started) {
      started = true;
      const r = await send('start', { position_ms: 0 });
      playId = r?.play_id ?? null;
      started = false;
    }
  });
  player.addEventListener('time', () => {
    if (!playId || !player.playing) return;
    const now = Date.now();
    if (now - lastProgress > PROGRESS_MS) { lastProgress = now; send('progress'); }
    if (player.duration && player.position >= player.duration - 0.4 && !ended) { ended = true; send('end'); }
  });
  addEventListener('online', flush);
  setTimeout(flush, 3000);
}

function queue(body) {
  const pending = JSON.parse(localStorage.getItem(PENDING) || '[]');
  pending.push(body);
  localStorage.setItem(PENDING, JSON.stringify(pending.slice(-1000)));
  return null;
}

async function flush() {
  const pending = JSON.parse(localStorage.getItem(PENDING) || '[]');
  if (!pending.length || !has('/api/v1/plays/events/batch')) return;
  try {
    await api('/plays/events/batch', { method: 'POST', body: { events: pending } });
    localStorage.removeItem(PENDING);
  } catch { /* later */ }
}
