// The native API (/api/v1): one fetch wrapper, one error type, feature detection from the OpenAPI document.

import { tr } from './i18n.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const bus = new EventTarget();

export async function api(path, { method = 'GET', body, signal, headers = {}, raw = false, keepalive = false } = {}) {
  const opts = { method, signal, headers: { ...headers }, credentials: 'same-origin', keepalive };
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof Blob) opts.body = body;
    else {
      opts.body = JSON.stringify(body);
      opts.headers['Content-Type'] = 'application/json';
    }
  }
  let r;
  try {
    r = await fetch('/api/v1' + path, opts);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'offline', tr('error.offline'));
  }
  if (raw && r.ok) return r;
  if (r.status === 204) return null;
  let data = null;
  try { data = await r.json(); } catch { /* not JSON */ }
  if (!r.ok) {
    const e = (data && data.error) || {};
    if (r.status === 401 && !path.startsWith('/auth/')) bus.dispatchEvent(new Event('unauthorized'));
    throw new ApiError(r.status, e.code || 'http_error', e.code === 'offline' ? tr('error.offline') : e.message || r.statusText || tr('error.request_failed'));
  }
  return method === 'GET' ? withoutMissingCovers(data) : data;
}

// A song another member holds has no cover here unless the node says so (has_cover / cover): its
// cover_url would only 404. Tracks arrive from many endpoints (lists, albums, search, playlists), so
// they are mended once, here.
function withoutMissingCovers(data, depth = 0) {
  if (!data || typeof data !== 'object' || depth > 3) return data;
  if (Array.isArray(data)) { for (const x of data) withoutMissingCovers(x, depth + 1); return data; }
  if (data.source && data.stream_url && data.cover_url && !data.cover && !data.has_cover) data.cover_url = null;
  for (const v of Object.values(data)) if (v && typeof v === 'object') withoutMissingCovers(v, depth + 1);
  return data;
}

// Which routes this node serves: analysis, federation and stats light up as they land.
let routes = null;
export async function loadCapabilities() {
  try {
    const doc = await api('/openapi.json');
    routes = new Set(Object.keys(doc.paths || {}).map(normalise));
  } catch {
    routes = routes || new Set();
  }
  return routes;
}
const normalise = (p) => p.replace(/\{[^}]*\}/g, '{}').replace(/\/$/, '');
export function has(path) {
  return !!routes && routes.has(normalise(path));
}
export function hasPrefix(prefix) {
  if (!routes) return false;
  for (const r of routes) if (r.startsWith(prefix)) return true;
  return false;
}

/** A GET on an endpoint that may not exist yet: null when the node does not serve it (or 404s). */
export async function optional(path, template = path) {
  if (!has(template.split('?')[0])) return null;
  try {
    return await api(path);
  } catch (err) {
    if (err.status === 404 || err.status === 501 || err.status === 0) return null;
    throw err;
  }
}

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, v);
  const s = u.toString();
  return s ? '?' + s : '';
}
