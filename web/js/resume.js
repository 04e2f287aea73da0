// Resume where you left off: long tracks (over 10 minutes: mixes, audiobooks, live sets) and podcast
// episodes keep a bookmark on the node (/api/v1/bookmarks, the same ones Subsonic apps read), saved
// while they play, on pause and when the page goes away, and forgotten once they are finished. Playing
// such a track again, here or on another device, starts it at the bookmark.

import { api, has } from './api.js';

export const RESUME_MIN_S = 600;   // "long": over 10 minutes
const SAVE_EVERY_MS = 10000;       // while playing
const FINISHED_S = 30;             // this close to the end counts as finished
const ASK_TIMEOUT_MS = 2500;       // a slow node must not hold the start of a song for long

/** Whether the player keeps a resume position for this item. */
export function resumable(track) {
  if (!track?.id) return false;
  return track.resume === true || track.media_type === 'podcast' || Number(track.duration) > RESUME_MIN_S;
}

const enabled = () => has('/api/v1/bookmarks/{media_id}');
const kept = new Set(); // ids known to have a bookmark on the node: only those are forgotten (no 404 to log)
const path = (track) => `/bookmarks/${encodeURIComponent(track.id)}`;

/** The place to start ``track`` at (seconds): its bookmark, or 0. */
export async function resumePoint(track) {
  if (!resumable(track) || !enabled() || !navigator.onLine) return 0;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), ASK_TIMEOUT_MS);
  try {
    // the list, filtered to this item: empty when there is none (the item's own URL would 404)
    const r = await api(`/bookmarks?media_id=${encodeURIComponent(track.id)}`, { signal: ctl.signal }).catch(() => null);
    const at = (r?.items?.[0]?.position_ms || 0) / 1000;
    if (r?.items?.length) kept.add(track.id);
    const dur = Number(track.duration) || 0;
    return dur && at > dur - FINISHED_S ? 0 : at;
  } finally {
    clearTimeout(timer);
  }
}

/** Keep the bookmarks of the player's resumable tracks up to date. */
export function keepResumePositions(player) {
  let lastSave = 0;
  let lastSent = null; // `${id}@${ms}` of the last position sent, so that nothing is sent twice
  const save = (keepalive = false) => {
    const t = player.current;
    if (!resumable(t) || !enabled() || !player.el.getAttribute('src')) return;
    const pos = player.position;
    const dur = player.duration || Number(t.duration) || 0;
    if (dur && pos > dur - FINISHED_S) return forget(t, keepalive);
    if (pos < 1) return;
    const ms = Math.round(pos * 1000);
    const key = `${t.id}@${ms}`;
    if (key === lastSent) return;
    lastSent = key;
    lastSave = Date.now();
    api(path(t), { method: 'PUT', body: { position_ms: ms }, keepalive }).then(() => kept.add(t.id), () => { lastSent = null; });
  };
  const forget = (t, keepalive = false) => {
    const key = `${t.id}@done`;
    if (key === lastSent || !kept.has(t.id)) return; // a short episode heard at one go has none
    kept.delete(t.id);
    lastSent = key;
    api(path(t), { method: 'DELETE', keepalive }).catch(() => {}); // a 404 (none kept) is fine too
  };
  player.resumePoint = resumePoint;
  player.addEventListener('time', () => {
    if (player.playing && Date.now() - lastSave > SAVE_EVERY_MS) save();
  });
  player.addEventListener('state', () => { if (!player.playing) save(); });
  player.addEventListener('track', () => { lastSave = Date.now(); });
  player.addEventListener('finished', (e) => { if (resumable(e.detail)) forget(e.detail); });
  addEventListener('pagehide', () => save(true));
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') save(true); });
}
