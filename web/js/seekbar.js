// <son-seekbar>: the track's waveform (analysis peaks, peaks.js JSON) as the seek bar; a plain bar
// when the node has no peaks for the track. Keyboard: arrows ±5 s, Page ±30 s, Home/End.

import { api, has } from './api.js';
import { fmtTime } from './ui.js';

const peaksCache = new Map();
const missedAt = new Map(); // track id -> when the node had no peaks for it (analysis pending)
const MISS_TTL_MS = 60_000;

async function peaksFor(id) {
  if (!has('/api/v1/tracks/{}/waveform') || String(id).startsWith('pe-')) return null; // episodes have no analysis
  if (peaksCache.has(id)) return peaksCache.get(id);
  if (Date.now() - (missedAt.get(id) || 0) < MISS_TTL_MS) return null;
  let bars = null;
  try {
    // only ask for peaks the node has: a track still waiting for analysis would answer 404
    const url = (await api(`/tracks/${encodeURIComponent(id)}`)).analysis?.waveform_url;
    if (url) bars = reduce(await api(url.replace(/^\/api\/v1/, '')));
  } catch { bars = null; }
  if (bars) peaksCache.set(id, bars);
  else missedAt.set(id, Date.now()); // not analysed yet: ask again a minute later, not on every play
  return bars;
}

/** peaks.js JSON → ~600 normalised heights (0..1), interleaved [min,max,...] per channel. */
function reduce(w) {
  const data = w?.data;
  if (!Array.isArray(data) || !data.length) return null;
  const channels = w.channels || 1;
  const scale = w.bits === 16 ? 32768 : 128;
  const frames = Math.floor(data.length / (2 * channels));
  const out = new Float32Array(Math.min(600, frames));
  const per = frames / out.length;
  for (let i = 0; i < out.length; i++) {
    let peak = 0;
    const a = Math.floor(i * per), b = Math.max(a + 1, Math.floor((i + 1) * per));
    for (let f = a; f < b; f++) {
      for (let c = 0; c < channels; c++) {
        const k = (f * channels + c) * 2;
        peak = Math.max(peak, Math.abs(data[k]), Math.abs(data[k + 1]));
      }
    }
    out[i] = Math.min(1, peak / scale);
  }
  const max = Math.max(...out) || 1;
  return out.map((v) => v / max);
}

class SeekBar extends HTMLElement {
  constructor() {
    super();
    this.bars = null;
    this.trackId = null;
    this.value = 0;
    this.max = 0;
    this.hover = -1;
  }

  connectedCallback() {
    if (this.canvas) return this.observe();
    this.setAttribute('role', 'slider');
    this.setAttribute('tabindex', '0');
    this.setAttribute('aria-label', this.getAttribute('label') || 'Seek');
    this.setAttribute('aria-valuemin', '0');
    this.canvas = document.createElement('canvas');
    this.append(this.canvas);
    this.addEventListener('pointerdown', (e) => this.drag(e));
    this.addEventListener('pointermove', (e) => { this.hover = this.frac(e); this.draw(); });
    this.addEventListener('pointerleave', () => { this.hover = -1; this.draw(); });
    this.addEventListener('keydown', (e) => this.key(e));
    this.observe();
  }

  observe() {
    this.ro = new ResizeObserver(() => this.resize());
    this.ro.observe(this);
  }

  disconnectedCallback() { this.ro?.disconnect(); }

  async setTrack(track) {
    const id = track?.id || null;
    if (id === this.trackId) return;
    this.trackId = id;
    this.bars = null;
    this.classList.remove('has-peaks');
    this.draw();
    if (!id || track.source) return; // no analysis peaks for songs other members hold
    const bars = await peaksFor(id);
    if (this.trackId !== id) return;
    this.bars = bars;
    this.classList.toggle('has-peaks', !!bars);
    this.draw();
  }

  update(value, max) {
    this.value = value;
    this.max = max;
    this.setAttribute('aria-valuemax', String(Math.round(max)));
    this.setAttribute('aria-valuenow', String(Math.round(value)));
    this.setAttribute('aria-valuetext', `${fmtTime(value)} of ${fmtTime(max)}`);
    this.draw();
  }

  frac(e) {
    const r = this.getBoundingClientRect();
    return Math.max(0, Math.min(1, (e.clientX - r.left) / r.width));
  }

  drag(e) {
    if (!this.max) return;
    e.preventDefault();
    this.setPointerCapture(e.pointerId);
    this.focus({ preventScroll: true });
    this.dragging = true;
    const move = (ev) => { this.value = this.frac(ev) * this.max; this.draw(); };
    const up = (ev) => {
      this.dragging = false;
      this.removeEventListener('pointermove', move);
      this.removeEventListener('pointerup', up);
      this.removeEventListener('pointercancel', up);
      this.seek(this.frac(ev) * this.max);
    };
    this.addEventListener('pointermove', move);
    this.addEventListener('pointerup', up);
    this.addEventListener('pointercancel', up);
    move(e);
  }

  key(e) {
    const steps = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5, PageDown: -30, PageUp: 30 };
    let t = null;
    if (e.key in steps) t = this.value + steps[e.key];
    else if (e.key === 'Home') t = 0;
    else if (e.key === 'End') t = this.max - 1;
    if (t === null) return;
    e.preventDefault();
    e.stopPropagation();
    this.seek(Math.max(0, Math.min(this.max, t)));
  }

  seek(t) {
    this.value = t;
    this.draw();
    this.dispatchEvent(new CustomEvent('seek', { detail: t, bubbles: true }));
  }

  resize() {
    const dpr = devicePixelRatio || 1;
    const w = Math.max(1, this.clientWidth), hgt = Math.max(1, this.clientHeight);
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(hgt * dpr);
    this.draw();
  }

  draw() {
    const c = this.canvas;
    if (!c || !c.width) return;
    const ctx = c.getContext('2d');
    const W = c.width, H = c.height;
    const dpr = devicePixelRatio || 1;
    const cs = getComputedStyle(this);
    const played = cs.getPropertyValue('--seek-played').trim() || '#ff6a5c';
    const rest = cs.getPropertyValue('--seek-rest').trim() || 'rgba(255,255,255,.25)';
    const hoverC = cs.getPropertyValue('--seek-hover').trim() || 'rgba(255,255,255,.45)';
    ctx.clearRect(0, 0, W, H);
    const p = this.max ? this.value / this.max : 0;
    if (this.bars) {
      const n = Math.floor(W / (3 * dpr));
      const bw = 2 * dpr;
      for (let i = 0; i < n; i++) {
        const v = this.bars[Math.floor((i / n) * this.bars.length)] || 0;
        const bh = Math.max(2 * dpr, v * H * 0.92);
        const x = i * 3 * dpr;
        const f = i / n;
        ctx.fillStyle = f <= p ? played : this.hover >= 0 && f <= this.hover ? hoverC : rest;
        ctx.fillRect(x, (H - bh) / 2, bw, bh);
      }
    } else {
      const bh = 4 * dpr, y = (H - bh) / 2;
      ctx.fillStyle = rest;
      roundRect(ctx, 0, y, W, bh, bh / 2);
      if (this.hover >= 0) { ctx.fillStyle = hoverC; roundRect(ctx, 0, y, W * this.hover, bh, bh / 2); }
      ctx.fillStyle = played;
      roundRect(ctx, 0, y, W * p, bh, bh / 2);
      if (this.matches(':hover, :focus-visible') || this.dragging) {
        ctx.beginPath();
        ctx.arc(Math.max(6 * dpr, W * p), H / 2, 6 * dpr, 0, Math.PI * 2);
        ctx.fill();
      }
    }
  }
}

function roundRect(ctx, x, y, w, hh, r) {
  if (w <= 0) return;
  ctx.beginPath();
  ctx.roundRect ? ctx.roundRect(x, y, w, hh, Math.min(r, w / 2)) : ctx.rect(x, y, w, hh);
  ctx.fill();
}

customElements.define('son-seekbar', SeekBar);
