// The federation as the rest of the app sees it: who the members are (cached briefly) and the small
// "source" badge on tracks that another member holds. Lights up when the node serves /api/v1/federation.

import { api, has } from './api.js';
import { h } from './ui.js';
import { tr } from './i18n.js';

const TTL = 30_000;
let cache = null; // { at, promise, byId: Map, data }
const listeners = new EventTarget();
export const federationEvents = listeners;

export const available = () => has('/api/v1/federation/members');

/** The members document ({federation_id, name, items, revoked}); cached for a few seconds. */
export function members({ fresh = false, signal } = {}) {
  if (!available()) return Promise.resolve({ federation_id: null, items: [], revoked: [] });
  if (!fresh && cache && Date.now() - cache.at < TTL) return cache.promise;
  const promise = api('/federation/members', { signal }).then((data) => {
    data.items ||= [];
    cache = { at: Date.now(), promise: Promise.resolve(data), byId: new Map(data.items.map((m) => [m.node_id, m])), data };
    listeners.dispatchEvent(new Event('change'));
    return data;
  });
  promise.catch(() => { if (cache?.promise === promise) cache = null; });
  if (!cache) cache = { at: Date.now(), promise, byId: new Map(), data: null };
  else { cache.promise = promise; cache.at = Date.now(); }
  return promise;
}

export function invalidate() { cache = null; }

/** The member's display name, when known now (null otherwise). */
export function memberName(nodeId) {
  if (!nodeId) return null;
  return cache?.byId.get(nodeId)?.name || null;
}

export const shortId = (id = '') => String(id).split('-')[0].slice(0, 7);

/** "Node 3f9a2c1": a member not named yet. */
export const nodeName = (id) => tr('member.node_short', { id: shortId(id) });

/** "from Ana's node"; a member already named "… node" reads "from Node B". */
export function fromText(name) {
  return /\b(node|nodo)\b/i.test(name) ? tr('member.from', { name }) : tr('member.from_node', { name });
}

/** The source node of a track: '' (or absent) when it is local. */
export const sourceOf = (t) => { const s = (t && (t.source || t.source_node)) || ''; return s === 'local' ? '' : s; }; // recommendations say 'local'

/**
 * A small badge with the member's name for a track held by another node (null for local tracks).
 * Filled at once when the members are cached, else as soon as they load.
 */
export function sourceBadge(t, { cls = 'source-badge' } = {}) {
  const node = sourceOf(t);
  if (!node) return null;
  const badge = h('span', { class: cls, dataset: { node } });
  const fill = (name) => {
    const label = name || t.node_name || nodeName(node);
    badge.replaceChildren(h('span', { class: 'source-dot', 'aria-hidden': 'true' }), label);
    badge.title = tr('member.streams', { from: fromText(label) });
    badge.setAttribute('aria-label', tr('member.source', { name: label }));
  };
  const known = memberName(node);
  fill(known);
  if (!known && available()) members().then(() => { const n = memberName(node); if (n) fill(n); }).catch(() => {});
  return badge;
}

/** Prime the cache (called when the app starts) so badges render with names at once. */
export function prime() {
  if (available()) members().catch(() => {});
}
