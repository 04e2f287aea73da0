// The player: a queue over two <audio> elements (the next track preloads in the idle one, so that
// transitions are near-gapless), routed through Web Audio: per-element ReplayGain → 10-band EQ → volume.

import { api } from './api.js';
import { tr } from './i18n.js';

export const EQ_BANDS = [31, 62, 125, 250, 500, 1000, 2000, 4000, 8000, 16000];
export const EQ_PRESETS = {
  Flat: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  'Bass boost': [6, 5, 4, 2, 0, 0, 0, 0, 0, 0],
  'Treble boost': [0, 0, 0, 0, 0, 1, 2, 4, 5, 6],
  Loudness: [5, 3, 0, 0, -1, 0, -1, 0, 3, 5],
  Vocal: [-2, -1, 0, 2, 4, 4, 3, 1, 0, -1],
  Rock: [4, 3, 1, -1, -2, -1, 1, 3, 4, 4],
  Pop: [-1, 1, 3, 4, 3, 0, -1, -1, 0, 1],
  Jazz: [3, 2, 1, 2, -1, -1, 0, 1, 2, 3],
  Classical: [4, 3, 2, 1, -1, -1, 0, 2, 3, 4],
  Electronic: [5, 4, 1, 0, -2, 1, 0, 2, 4, 5],
  'Late night': [-3, -2, 0, 1, 2, 2, 1, 0, -2, -3],
};
// codec (as the scan names it) → the MIME type a browser is asked about (canPlayType)
const BROWSER_TYPES = {
  mp3: 'audio/mpeg', aac: 'audio/mp4; codecs="mp4a.40.2"', alac: 'audio/mp4; codecs="alac"',
  flac: 'audio/flac', vorbis: 'audio/ogg; codecs="vorbis"', opus: 'audio/ogg; codecs="opus"', pcm: 'audio/wav',
  ac3: 'audio/mp4; codecs="ac-3"', eac3: 'audio/mp4; codecs="ec-3"',
};

// the presets' names as shown (the settings keep the English ones above)
export const EQ_PRESET_NAMES = {
  Flat: tr('eq.flat'), 'Bass boost': tr('eq.bass_boost'), 'Treble boost': tr('eq.treble_boost'), Loudness: tr('eq.loudness'),
  Vocal: tr('eq.vocal'), Rock: tr('eq.rock'), Pop: tr('eq.pop'), Jazz: tr('eq.jazz'), Classical: tr('eq.classical'),
  Electronic: tr('eq.electronic'), 'Late night': tr('eq.late_night'), Custom: tr('eq.custom'),
};
export const QUALITIES = {
  original: { label: tr('quality.original') },
  'opus-192': { label: tr('quality.bitrate', { codec: 'Opus', kbps: 192 }), format: 'opus', bitrate: 192 },
  'opus-128': { label: tr('quality.bitrate', { codec: 'Opus', kbps: 128 }), format: 'opus', bitrate: 128 },
  'opus-96': { label: tr('quality.bitrate', { codec: 'Opus', kbps: 96 }), format: 'opus', bitrate: 96 },
  'opus-64': { label: tr('quality.bitrate', { codec: 'Opus', kbps: 64 }), format: 'opus', bitrate: 64 },
  'aac-256': { label: tr('quality.bitrate', { codec: 'AAC', kbps: 256 }), format: 'aac', bitrate: 256 },
  'aac-128': { label: tr('quality.bitrate', { codec: 'AAC', kbps: 128 }), format: 'aac', bitrate: 128 },
  'mp3-320': { label: tr('quality.bitrate', { codec: 'MP3', kbps: 320 }), format: 'mp3', bitrate: 320 },
  'mp3-192': { label: tr('quality.bitrate', { codec: 'MP3', kbps: 192 }), format: 'mp3', bitrate: 192 },
};

const STORE = 'sonantica.player';
const PRELOAD_S = 25;
let qid = 0;

// A queue longer than this is kept in part: in localStorage (its size is bounded), and on the node
// (a play queue holds at most 20,000 tracks there).
const LOCAL_QUEUE_MAX = 2000;
const NODE_QUEUE_MAX = 20000;

/**
 * The part of a long queue that is kept: at most `max` tracks, always with the current one (the node
 * refuses a queue whose current track is not in it), mostly what comes after it.
 */
export function queueWindow(queue, index, max) {
  if (queue.length <= max) return { tracks: queue, index };
  const start = Math.max(0, Math.min(index - Math.floor(max / 4), queue.length - max));
  return { tracks: queue.slice(start, start + max), index: index < 0 ? -1 : index - start };
}

function load(key, fallback) {
  try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch { return fallback; }
}

export class Player extends EventTarget {
  constructor() {
    super();
    const saved = load(STORE, {});
    this.queue = (saved.queue || []).map((t) => ({ ...t, qid: ++qid }));
    this.index = Math.min(saved.index ?? -1, this.queue.length - 1);
    this.resumeAt = saved.position || 0;
    this.repeat = saved.repeat || 'off'; // off | all | one
    this.shuffle = !!saved.shuffle;
    this.unshuffled = null;
    this.settings = {
      quality: 'original', replaygain: 'track', preamp: 0, volume: 0.9, muted: false,
      eq: EQ_PRESETS.Flat.slice(), eqPreset: 'Flat', eqOn: true, ...load(STORE + '.settings', {}),
    };
    this.els = [this.makeElement(), this.makeElement()];
    this.cur = 0;
    this.ctx = null;
    this.filters = [];
    this.details = new Map();
    this.saveSoon = debounce(() => this.save(), 400);
    this.syncSoon = debounce(() => this.syncServer(), 2500);
    this.setupMediaSession();
    setInterval(() => { if (this.playing) this.save(); }, 5000);
  }

  // -- elements and the audio graph ------------------------------------------------------
  makeElement() {
    const el = new Audio();
    el.preload = 'auto';
    el.dataset.offset = '0';
    el.addEventListener('timeupdate', () => { if (el === this.el) this.onTime(); });
    el.addEventListener('ended', () => { if (el === this.el) this.onEnded(); });
    el.addEventListener('play', () => { if (el === this.el) this.emit('state'); });
    el.addEventListener('pause', () => { if (el === this.el) this.emit('state'); });
    el.addEventListener('waiting', () => { if (el === this.el) this.emit('state'); });
    el.addEventListener('playing', () => { if (el === this.el) this.emit('state'); });
    el.addEventListener('durationchange', () => { if (el === this.el) this.emit('time'); });
    el.addEventListener('error', () => {
      if (el !== this.el || !el.getAttribute('src')) return;
      this.emit('error', { message: this.current?.title ? tr('player.cannot_play', { title: this.current.title }) : tr('player.cannot_play_this') });
    });
    document.body.append(el);
    el.hidden = true;
    return el;
  }

  get el() { return this.els[this.cur]; }
  get other() { return this.els[1 - this.cur]; }

  /** Build the Web Audio graph once (needs a user gesture under normal autoplay rules). */
  graph() {
    if (this.ctx) {
      if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
      return this.ctx;
    }
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    try {
      const ctx = new AC({ latencyHint: 'playback' });
      this.filters = EQ_BANDS.map((f, i) => {
        const b = ctx.createBiquadFilter();
        b.type = i === 0 ? 'lowshelf' : i === EQ_BANDS.length - 1 ? 'highshelf' : 'peaking';
        b.frequency.value = f;
        b.Q.value = 1.1;
        return b;
      });
      for (let i = 0; i < this.filters.length - 1; i++) this.filters[i].connect(this.filters[i + 1]);
      this.master = ctx.createGain();
      this.analyser = ctx.createAnalyser();
      this.analyser.fftSize = 256;
      this.filters.at(-1).connect(this.master);
      this.master.connect(this.analyser);
      this.analyser.connect(ctx.destination);
      this.gains = this.els.map((el) => {
        const g = ctx.createGain();
        ctx.createMediaElementSource(el).connect(g);
        g.connect(this.filters[0]);
        return g;
      });
      this.ctx = ctx;
      this.applyEq();
      this.applyVolume();
      this.applyReplayGain(this.el, this.current);
      if (ctx.state === 'suspended') ctx.resume().catch(() => {});
    } catch (err) {
      console.warn('Web Audio unavailable, playing without EQ:', err);
      this.ctx = null;
    }
    return this.ctx;
  }

  // -- state ---------------------------------------------------------------------------------
  get current() { return this.queue[this.index] || null; }
  get playing() { return !!this.current && !this.el.paused && !this.el.ended; }
  get position() { return Number(this.el.dataset.offset) + (this.el.currentTime || 0) || (this.el.getAttribute('src') ? 0 : this.resumeAt); }
  get duration() {
    const t = this.current;
    const d = this.el.duration;
    if (t?.duration) return t.duration;
    return isFinite(d) ? d + Number(this.el.dataset.offset) : 0;
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  save() {
    const strip = ({ qid: _q, ...t }) => t;
    const { tracks, index } = queueWindow(this.queue, this.index, LOCAL_QUEUE_MAX);
    localStorage.setItem(STORE, JSON.stringify({
      queue: tracks.map(strip), index, position: this.position,
      repeat: this.repeat, shuffle: this.shuffle,
    }));
  }

  saveSettings() { localStorage.setItem(STORE + '.settings', JSON.stringify(this.settings)); }

  async syncServer() {
    if (!navigator.onLine) return;
    try {
      const win = queueWindow(this.queue, this.index, NODE_QUEUE_MAX);
      // the node's queue holds songs: podcast episodes stay in this device's queue only
      const tracks = win.tracks.filter((t) => t.media_type !== 'podcast');
      const index = tracks.indexOf(win.tracks[win.index]);
      // the place, not only the id: a queue may hold a song twice (Subsonic apps read it by index too)
      await api('/queue', { method: 'PUT', body: {
        track_ids: tracks.map((t) => t.id), current_index: index >= 0 && tracks.length ? index : null,
        position_ms: Math.round(this.position * 1000), client: 'web' } });
    } catch { /* the queue is also kept locally */ }
  }

  changed() {
    this.emit('queue');
    this.saveSoon();
    this.syncSoon();
  }

  // -- the queue -------------------------------------------------------------------------------
  playList(tracks, start = 0, { shuffle = false } = {}) {
    this.queue = tracks.map((t) => ({ ...t, qid: ++qid }));
    this.unshuffled = null;
    this.index = Math.max(0, Math.min(start, this.queue.length - 1));
    if (shuffle || this.shuffle) {
      this.shuffle = true;
      this.shuffleQueue(!shuffle);
    }
    this.changed();
    return this.loadCurrent({ autoplay: true });
  }

  addNext(tracks) {
    const items = tracks.map((t) => ({ ...t, qid: ++qid }));
    if (this.index < 0) return this.playList(tracks);
    this.queue.splice(this.index + 1, 0, ...items);
    this.unshuffled?.push(...items);
    this.invalidatePreload();
    this.changed();
  }

  addToEnd(tracks) {
    const items = tracks.map((t) => ({ ...t, qid: ++qid }));
    if (this.index < 0) return this.playList(tracks);
    this.queue.push(...items);
    this.unshuffled?.push(...items);
    this.invalidatePreload();
    this.changed();
  }

  move(from, to) {
    if (from === to || from < 0 || to < 0 || from >= this.queue.length || to >= this.queue.length) return;
    const [item] = this.queue.splice(from, 1);
    this.queue.splice(to, 0, item);
    if (this.index === from) this.index = to;
    else if (from < this.index && to >= this.index) this.index--;
    else if (from > this.index && to <= this.index) this.index++;
    this.invalidatePreload();
    this.changed();
  }

  removeAt(i) {
    if (i < 0 || i >= this.queue.length) return;
    const wasCurrent = i === this.index;
    const [gone] = this.queue.splice(i, 1);
    if (this.unshuffled) this.unshuffled = this.unshuffled.filter((t) => t.qid !== gone.qid);
    if (i < this.index) this.index--;
    if (wasCurrent) {
      if (!this.queue.length) return this.clear();
      this.index = Math.min(this.index, this.queue.length - 1);
      this.loadCurrent({ autoplay: this.playing });
    }
    this.invalidatePreload();
    this.changed();
  }

  clear() {
    for (const el of this.els) { el.pause(); el.removeAttribute('src'); el.load(); }
    this.queue = [];
    this.unshuffled = null;
    this.index = -1;
    this.resumeAt = 0;
    this.changed();
    this.emit('track');
    this.emit('state');
  }

  jump(i) {
    if (i < 0 || i >= this.queue.length) return;
    this.index = i;
    this.changed();
    return this.loadCurrent({ autoplay: true });
  }

  setShuffle(on) {
    this.shuffle = on;
    if (on) this.shuffleQueue(true);
    else if (this.unshuffled) {
      const cur = this.current;
      this.queue = this.unshuffled;
      this.unshuffled = null;
      this.index = Math.max(0, this.queue.findIndex((t) => t.qid === cur?.qid));
    }
    this.invalidatePreload();
    this.changed();
    this.emit('state');
  }

  shuffleQueue(keepCurrentFirst) {
    const cur = this.queue[this.index];
    this.unshuffled = this.queue.slice();
    const rest = this.queue.filter((_, i) => i !== this.index || !keepCurrentFirst);
    for (let i = rest.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [rest[i], rest[j]] = [rest[j], rest[i]];
    }
    this.queue = keepCurrentFirst && cur ? [cur, ...rest] : rest;
    this.index = 0;
  }

  cycleRepeat() {
    this.repeat = { off: 'all', all: 'one', one: 'off' }[this.repeat];
    this.invalidatePreload();
    this.saveSoon();
    this.emit('state');
  }

  // -- transport ---------------------------------------------------------------------------------
  // Whether this browser plays the track's original bytes: judged from the codec the scan read from
  // the stream (an .m4a may hold ALAC, a .wav ADPCM); DSD, WMA, Musepack, APE… are transcoded instead.
  playsOriginal(track) {
    const codec = String(track.codec || '').toLowerCase();
    if (!codec) return true;
    const fmt = String(track.format || '').toLowerCase();
    let type = BROWSER_TYPES[codec];
    if (codec === 'pcm' && fmt.startsWith('aif')) type = 'audio/aiff';
    if (fmt === 'm4a' && (codec === 'flac' || codec === 'opus')) type = `audio/mp4; codecs="${codec}"`;
    return Boolean(type) && this.el.canPlayType(type) !== '';
  }

  srcFor(track, offset = 0) {
    let q = QUALITIES[this.settings.quality] || QUALITIES.original;
    if (!q.format && !this.playsOriginal(track)) q = QUALITIES['opus-192'];
    const p = new URLSearchParams(q.format ? { format: q.format, bitrate: q.bitrate } : { format: 'raw' });
    if (offset > 0) p.set('offset', offset.toFixed(3));
    if (track.media_type === 'podcast') return `/api/v1/podcasts/episodes/${encodeURIComponent(track.id)}/stream?${p}`;
    return `/api/v1/tracks/${encodeURIComponent(track.id)}/stream?${p}`;
  }

  async loadCurrent({ autoplay = false, at = 0, resume = true } = {}) {
    const track = this.current;
    if (!track) return;
    this.graph();
    if (at === 0 && resume && this.resumePoint) { // a long track or an episode starts where it was left
      at = await this.resumePoint(track);
      if (this.current !== track) return; // another was chosen meanwhile
    }
    const other = this.other;
    if (other.dataset.trackId === String(track.qid) && other.getAttribute('src') && at === 0) {
      this.el.pause();
      this.cur = 1 - this.cur; // the preloaded element takes over
    } else {
      const el = this.el;
      el.pause();
      el.dataset.trackId = String(track.qid);
      const transcoded = this.settings.quality !== 'original' && at > 0; // a live transcode starts at the offset
      el.dataset.offset = transcoded ? String(at) : '0';
      el.src = this.srcFor(track, transcoded ? at : 0);
      if (at > 0 && !transcoded) el.currentTime = at;
    }
    this.other.pause();
    this.resumeAt = 0;
    this.applyReplayGain(this.el, track);
    this.emit('track');
    this.updateMediaSession();
    this.fetchDetails(track);
    if (autoplay) await this.play();
    this.emit('state');
  }

  async play() {
    if (!this.current) return;
    this.graph();
    const el = this.el;
    if (!el.getAttribute('src')) {
      const at = this.resumeAt;
      await this.loadCurrent({ autoplay: false, at });
    }
    try {
      await this.el.play();
    } catch (err) {
      if (err.name !== 'AbortError') this.emit('error', { message: tr('player.blocked') });
    }
    this.emit('state');
  }

  pause() { this.el.pause(); this.save(); this.emit('state'); }
  toggle() { return this.playing ? this.pause() : this.play(); }

  async next({ auto = false } = {}) {
    if (!this.queue.length) return;
    let i = this.index + 1;
    if (i >= this.queue.length) {
      if (this.repeat === 'all' || !auto) i = 0;
      else {
        this.el.pause();
        this.el.currentTime = 0;
        this.emit('state');
        return;
      }
    }
    this.index = i;
    this.changed();
    await this.loadCurrent({ autoplay: true });
  }

  async prev() {
    if (this.position > 3 || this.index <= 0) return this.seek(0);
    this.index--;
    this.changed();
    await this.loadCurrent({ autoplay: true });
  }

  seek(seconds) {
    const el = this.el;
    const dur = this.duration;
    const t = Math.max(0, Math.min(seconds, dur ? dur - 0.05 : seconds));
    if (!el.getAttribute('src')) { this.resumeAt = t; this.emit('time'); return; }
    const offset = Number(el.dataset.offset);
    const local = t - offset;
    let seekable = local >= 0 && el.seekable.length > 0 && local <= el.seekable.end(el.seekable.length - 1) + 0.5;
    if (this.settings.quality === 'original') seekable = local >= 0;
    if (seekable) el.currentTime = local;
    else {
      // a live transcode cannot seek by bytes: restart it at the time offset
      const wasPlaying = !el.paused;
      el.dataset.offset = String(t);
      el.src = this.srcFor(this.current, t);
      if (wasPlaying) el.play().catch(() => {});
    }
    this.emit('time');
    this.updatePositionState();
  }

  onTime() {
    this.emit('time');
    const remaining = this.duration - this.position;
    if (remaining > 0 && remaining < PRELOAD_S) this.preloadNext();
  }

  async onEnded() {
    this.emit('finished', this.current);
    if (this.repeat === 'one') {
      this.seek(0);
      return this.el.play();
    }
    await this.next({ auto: true });
  }

  nextIndex() {
    if (this.repeat === 'one') return -1;
    const i = this.index + 1;
    if (i < this.queue.length) return i;
    return this.repeat === 'all' && this.queue.length > 1 ? 0 : -1;
  }

  preloadNext() {
    const i = this.nextIndex();
    if (i < 0) return;
    const t = this.queue[i];
    const other = this.other;
    if (other.dataset.trackId === String(t.qid) && other.getAttribute('src')) return;
    other.dataset.trackId = String(t.qid);
    other.dataset.offset = '0';
    other.src = this.srcFor(t);
    other.load();
    this.applyReplayGain(other, t);
  }

  invalidatePreload() {
    const other = this.other;
    if (other.getAttribute('src') && other.paused) {
      other.removeAttribute('src');
      other.dataset.trackId = '';
      other.load();
    }
  }

  // -- sound -------------------------------------------------------------------------------------
  setVolume(v) {
    this.settings.volume = Math.max(0, Math.min(1, v));
    this.settings.muted = false;
    this.applyVolume();
    this.saveSettings();
    this.emit('volume');
  }

  toggleMute() {
    this.settings.muted = !this.settings.muted;
    this.applyVolume();
    this.saveSettings();
    this.emit('volume');
  }

  applyVolume() {
    const v = this.settings.muted ? 0 : this.settings.volume ** 2; // perceptual curve
    if (this.master) this.master.gain.setTargetAtTime(v, this.ctx.currentTime, 0.02);
    else for (const el of this.els) el.volume = v;
  }

  setEq(gains, preset = 'Custom') {
    this.settings.eq = gains.map((g) => Math.max(-12, Math.min(12, Number(g) || 0)));
    this.settings.eqPreset = preset;
    this.applyEq();
    this.saveSettings();
    this.emit('eq');
  }

  setEqBand(i, gain) {
    const g = this.settings.eq.slice();
    g[i] = gain;
    this.setEq(g, 'Custom');
  }

  setEqPreset(name) { if (EQ_PRESETS[name]) this.setEq(EQ_PRESETS[name].slice(), name); }

  setEqOn(on) { this.settings.eqOn = on; this.applyEq(); this.saveSettings(); this.emit('eq'); }

  applyEq() {
    this.filters.forEach((f, i) => { f.gain.value = this.settings.eqOn ? this.settings.eq[i] : 0; });
  }

  /** The gains the audio graph really has (what the EQ test reads). */
  eqGains() { return this.filters.map((f) => f.gain.value); }

  setReplayGain(mode, preamp = this.settings.preamp) {
    this.settings.replaygain = mode;
    this.settings.preamp = preamp;
    this.saveSettings();
    this.applyReplayGain(this.el, this.current);
    this.emit('replaygain');
  }

  replayGainFor(track) {
    const mode = this.settings.replaygain;
    if (!track || mode === 'off') return 1;
    const { tg, ag, tp, ap } = facts({ ...track, ...(this.details.get(track.id) || {}) });
    const useAlbum = mode === 'album' && ag != null;
    const gainDb = useAlbum ? ag : tg ?? ag;
    if (gainDb == null) return 1;
    let linear = 10 ** ((gainDb + Number(this.settings.preamp || 0)) / 20);
    const peak = useAlbum ? ap ?? tp : tp;
    if (peak > 0) linear = Math.min(linear, 1 / peak);
    return linear;
  }

  applyReplayGain(el, track) {
    const i = this.els.indexOf(el);
    if (!this.gains || i < 0) return;
    this.gains[i].gain.value = this.replayGainFor(track);
  }

  async fetchDetails(track) {
    if (this.details.has(track.id) || !navigator.onLine || track.media_type === 'podcast') return;
    try {
      const d = await api(`/tracks/${encodeURIComponent(track.id)}`);
      this.details.set(track.id, d);
      if (this.current?.id === track.id) {
        this.applyReplayGain(this.el, track);
        this.emit('details');
      }
    } catch { /* offline or gone: keep the list's fields */ }
  }

  // -- Media Session (lock screen, hardware keys) -------------------------------------------
  setupMediaSession() {
    const ms = navigator.mediaSession;
    if (!ms) return;
    const handlers = {
      play: () => this.play(), pause: () => this.pause(), previoustrack: () => this.prev(),
      nexttrack: () => this.next(), stop: () => this.pause(),
      seekbackward: (d) => this.seek(this.position - (d.seekOffset || 10)),
      seekforward: (d) => this.seek(this.position + (d.seekOffset || 10)),
      seekto: (d) => this.seek(d.seekTime),
    };
    for (const [k, fn] of Object.entries(handlers)) {
      try { ms.setActionHandler(k, fn); } catch { /* not supported here */ }
    }
    this.addEventListener('state', () => { ms.playbackState = this.current ? (this.playing ? 'playing' : 'paused') : 'none'; });
  }

  updateMediaSession() {
    const ms = navigator.mediaSession;
    const t = this.current;
    if (!ms || !t || !window.MediaMetadata) return;
    const art = t.cover_url ? [96, 256, 512].map((s) => ({ src: `${t.cover_url}?size=${s}`, sizes: `${s}x${s}` })) : [];
    ms.metadata = new MediaMetadata({ title: t.title || tr('track.unknown_title'), artist: t.artist || '', album: t.album || '', artwork: art });
    this.updatePositionState();
  }

  updatePositionState() {
    const ms = navigator.mediaSession;
    if (!ms?.setPositionState || !this.duration) return;
    try {
      ms.setPositionState({ duration: this.duration, position: Math.min(this.position, this.duration), playbackRate: 1 });
    } catch { /* inconsistent values while loading */ }
  }
}

/**
 * What the node knows about a track's sound: tags first (rg_* fields), then the analysis object
 * ({bpm: {bpm}, key: {key, camelot}, loudness: {integrated_lufs, replaygain_track_gain_db, …}, album_loudness}).
 */
export function facts(d) {
  const a = d.analysis || {};
  const num = (...xs) => xs.find((x) => typeof x === 'number' && isFinite(x)) ?? null;
  const loud = a.loudness || {};
  const album = a.album_loudness || {};
  const key = a.key || {};
  return {
    tg: num(d.rg_track_gain, loud.replaygain_track_gain_db),
    tp: num(d.rg_track_peak, loud.replaygain_track_peak, loud.true_peak),
    ag: num(d.rg_album_gain, album.replaygain_album_gain_db),
    ap: num(d.rg_album_peak, album.replaygain_album_peak),
    bpm: num(d.bpm, a.bpm?.bpm, typeof a.bpm === 'number' ? a.bpm : null),
    key: (typeof d.key === 'string' && d.key) || key.key || null,
    camelot: key.camelot || null,
    lufs: num(loud.integrated_lufs),
    lra: num(loud.loudness_range_lu),
  };
}

function debounce(fn, ms) {
  let t;
  return () => { clearTimeout(t); t = setTimeout(fn, ms); };
}

export const player = new Player();
window.__sonantica = Object.assign(window.__sonantica || {}, { player });
