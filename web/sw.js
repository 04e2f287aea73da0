// Sonántica's service worker: the app shell offline, and downloaded music played from Cache Storage
// (answering the media element's Range requests), API pages of downloaded albums and playlists.
const VERSION = '__V__';
const ASSETS = __ASSETS__;
const SHELL = 'sonantica-shell-' + VERSION;
const OFFLINE = 'sonantica-offline-v1';
const RUNTIME = 'sonantica-runtime-v1';
const STREAM = /^\/api\/v1\/tracks\/([^/]+)\/(stream|download)$/;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    await cache.addAll(['/', '/manifest.webmanifest', ...ASSETS.map((a) => `/static/${VERSION}/${a}`)]);
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('sonantica-shell-') && name !== SHELL) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data === 'version') event.source?.postMessage({ version: VERSION });
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (req.mode === 'navigate') return event.respondWith(navigate(req));
  if (path.startsWith('/static/')) return event.respondWith(shellAsset(req, path));
  if (path === '/manifest.webmanifest') return event.respondWith(networkFirst(req, SHELL));
  const m = STREAM.exec(path);
  if (m) return event.respondWith(stream(req, decodeURIComponent(m[1])));
  if (path.startsWith('/api/v1/covers/')) return event.respondWith(coverArt(req));
  if (path === '/api/v1/events') return;
  if (path.startsWith('/api/v1/')) return event.respondWith(api(req));
});

async function navigate(req) {
  try {
    return await fetch(req);
  } catch {
    return (await caches.match('/', { cacheName: SHELL })) || offlinePage(req);
  }
}

async function shellAsset(req, path) {
  const hit = await caches.match(req, { cacheName: SHELL });
  if (hit) return hit;
  try {
    return await fetch(req);
  } catch {
    // an older page asking for its version's asset: the current one is the best we have offline
    const rest = path.split('/').slice(3).join('/');
    return (await caches.match(`/static/${VERSION}/${rest}`, { cacheName: SHELL })) || new Response('', { status: 504 });
  }
}

async function networkFirst(req, cacheName) {
  try {
    const r = await fetch(req);
    if (r.ok) (await caches.open(cacheName)).put(req, r.clone());
    return r;
  } catch {
    return (await caches.match(req)) || new Response('', { status: 504 });
  }
}

async function stream(req, id) {
  const cached = await caches.match(`/offline/track/${encodeURIComponent(id)}`, { cacheName: OFFLINE });
  if (!cached) return fetch(req);
  return ranged(req, cached);
}

/** Answer a Range request from a cached whole file (Chromium's media element always asks with Range). */
async function ranged(req, cached) {
  const blob = await cached.blob();
  const size = blob.size;
  const type = cached.headers.get('Content-Type') || 'application/octet-stream';
  const base = { 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-store' };
  const header = req.headers.get('Range');
  const m = header && /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) {
    return new Response(blob, { status: 200, headers: { ...base, 'Content-Length': String(size) } });
  }
  let start, end;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) {
    return new Response('', { status: 416, headers: { ...base, 'Content-Range': `bytes */${size}` } });
  }
  return new Response(blob.slice(start, end + 1, type), {
    status: 206,
    headers: { ...base, 'Content-Length': String(end - start + 1), 'Content-Range': `bytes ${start}-${end}/${size}` },
  });
}

async function coverArt(req) {
  const offline = await caches.match(req, { cacheName: OFFLINE });
  if (offline) return offline;
  const runtime = await caches.open(RUNTIME);
  try {
    const r = await fetch(req);
    return r;
  } catch {
    return (await runtime.match(req)) || (await caches.match(req, { cacheName: OFFLINE, ignoreSearch: true }))
      || new Response('', { status: 504 });
  }
}

async function api(req) {
  try {
    return await fetch(req);
  } catch {
    const hit = await caches.match(req, { cacheName: OFFLINE });
    if (hit) return hit;
    return new Response(JSON.stringify({ error: { status: 503, code: 'offline', message: 'the node cannot be reached; downloaded music still plays' } }),
      { status: 503, headers: { 'Content-Type': 'application/json' } });
  }
}

/** Before the shell is cached, the worker has no catalogue: the browser's first language says which words. */
function offlinePage(req) {
  const es = /^es\b/i.test(req.headers.get('Accept-Language') || '');
  const [lang, title, text] = es ? ['es', 'Sin conexión', 'Sonántica está sin conexión.'] : ['en', 'Offline', 'Sonántica is offline.'];
  return new Response(`<!doctype html><html lang="${lang}"><meta charset="utf-8"><title>${title}</title><p>${text}</p>`,
    { headers: { 'Content-Type': 'text/html' } });
}
