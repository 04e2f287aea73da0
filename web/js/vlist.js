// Windowed ("virtual") lists and grids for libraries of any size.
//
// Theory of operation. A PagedSource pulls pages from a keyset-paged API (`next_cursor`) in order,
// on demand, and knows the list's length from the first page's `total` (or, from an API without it,
// once the last page arrived; before that: a hint, or what is loaded plus one page). A virtual list
// is an empty box as tall as the whole list (so the scroll bar is right from the start) in which
// only the items in view, plus a margin, exist as elements, each absolutely placed at (column, row) in a grid of fixed-size cells.
// Cells are sized from the box's width (the same auto-fill rule as the CSS grid: columns of at least
// --col-min) and the measured height of one item, so nothing moves when covers load and nothing is
// laid out but the few items in view. Scrolling (on the app's <main>) asks for the rows in view; rows
// not loaded yet show skeletons and ask the source for the pages they need. Covers of items that
// appear during a fast scroll (or a jump) are fetched only once the list rests, so that flying past a
// thousand albums does not fetch (and decode) a thousand covers. A page that failed is asked again
// RETRY_MS later, by itself (the skeletons stay until then); onError hears of the first failure of a
// run of them, not of every retry.
//
// Accessibility: the box is a list (role=list) of listitems carrying aria-posinset/aria-setsize; the
// focused item is never removed while it has focus; items rendered out of view are inert, so that Tab
// enters the list in view; arrow keys, Page Up/Down and Home/End move focus
// through the whole list (scrolling, loading and rendering on the way).

import { loadDeferred } from './ui.js';

const OVERSCAN_PX = 700; // rendered beyond the view, above and below
const RETRY_MS = 3000; // a page that failed is asked again after this
const FAST_PX_S = 1500; // scrolling faster than this defers covers until the list rests…
const REST_MS = 120; // …for this long

/** <son-vlist>: the element virtualList() configures; it starts when put in the document. */
class VirtualListElement extends HTMLElement {
  connectedCallback() { this.connected?.(); }
  disconnectedCallback() { this.disconnected?.(); }
}
customElements.define('son-vlist', VirtualListElement);

export class PagedSource extends EventTarget {
  /** fetchPage(cursor, limit) → {items, next_cursor}; hint: the expected length (0: unknown). */
  constructor(fetchPage, { hint = 0, first = 120, size = 500 } = {}) {
    super();
    Object.assign(this, { fetchPage, hint, first, size });
    this.items = [];
    this.total = null; // the list's length as the first page states it (members' music included)
    this.cursor = null;
    this.done = false;
    this.error = null; // the last failure; pages are asked again a few seconds later
    this.failedAt = 0;
    this.pending = null;
  }

  /** The length to lay out: exact when everything is loaded or the first page gave the total, else the
   * hint or what is loaded plus a page. */
  get length() {
    if (this.done) return this.items.length;
    if (this.total != null) return Math.max(this.total, this.items.length);
    return Math.max(this.hint, this.items.length + (this.items.length ? this.size : this.first));
  }

  /** Whether `length` is the real length (for aria-setsize). */
  get exact() { return this.done || this.total != null; }

  /** Load pages in order until `n` items are here (or there are no more). */
  async ensure(n) {
    if (this.error && Date.now() - this.failedAt < RETRY_MS) return;
    this.error = null;
    while (!this.done && !this.error && this.items.length < n) {
      this.pending ||= this.fetchPage(this.cursor, this.items.length ? this.size : this.first).then((r) => {
        this.items.push(...r.items);
        if (typeof r.total === 'number') this.total = r.total;
        this.cursor = r.next_cursor || null;
        this.done = !this.cursor || !r.items.length;
        this.dispatchEvent(new Event('change'));
      }, (err) => {
        if (err.name !== 'AbortError') { this.error = err; this.failedAt = Date.now(); }
        throw err;
      }).finally(() => { this.pending = null; });
      await this.pending;
    }
  }
}

/**
 * A windowed list in `scroller` (default: the app's <main>). opts:
 *   source   a PagedSource
 *   render(item, i) → Element      an item (a link or a focusable row); covers made with
 *                                  cover(…, {defer: true}) load once the list rests (loadDeferred)
 *   skeleton() → Element           an item not loaded yet (aria-hidden)
 *   columns  true: a grid of columns at least --col-min wide; false: one row per item
 *   label    the list's accessible name
 *   empty    an Element shown instead when the source turns out empty
 *   onError(err)                   a page failed to load
 * Returns the element; call `el.destroy()` when leaving the page.
 */
export function virtualList({ source, render, skeleton, columns = true, label, cls = '', empty = null, onError = null, scroller = null }) {
  const box = document.createElement('son-vlist');
  box.className = `vlist ${columns ? 'vgrid' : 'vrows'} ${cls}`.trim();
  box.setAttribute('role', 'list');
  if (label) box.setAttribute('aria-label', label);
  const nodes = new Map(); // index → element (real or skeleton), kept in index order in the DOM
  let scrollEl = scroller;
  let geo = null; // {width, cols, colW, itemW, itemH, pitchX, pitchY, gapY}
  let frame = 0;
  let destroyed = true; // until connected
  let failing = false; // pages fail: onError was told; reset when a page arrives
  let retryTimer = 0;

  /** A page failed (or is still within RETRY_MS of failing): tell onError once, and look again later. */
  const failed = (err) => {
    if (err && err.name === 'AbortError') return;
    if (err && !failing) { failing = true; onError?.(err); }
    if (retryTimer || destroyed) return;
    const wait = Math.max(0, source.failedAt + RETRY_MS - Date.now()) + 20; // ensure() refuses before RETRY_MS
    retryTimer = setTimeout(() => { retryTimer = 0; schedule(); }, wait);
  };

  /** Size the cells for the box's width; returns false while the box has no width. */
  const layout = () => {
    const width = box.clientWidth;
    if (!width) return false;
    const old = geo, top = old ? viewTop() : 0;
    const cs = getComputedStyle(box);
    const gapX = parseFloat(cs.columnGap) || 0, gapY = parseFloat(cs.rowGap) || 0;
    const min = parseFloat(cs.getPropertyValue('--col-min')) || 168;
    const cols = columns ? Math.max(1, Math.floor((width + gapX) / (min + gapX))) : 1;
    const colW = (width - (cols - 1) * gapX) / cols;
    // one probe item at this width gives the height of every item
    const probe = source.items.length ? render(source.items[0], 0) : skeleton();
    probe.style.visibility = 'hidden';
    box.append(probe);
    const ps = getComputedStyle(probe);
    const mx = parseFloat(ps.marginLeft) + parseFloat(ps.marginRight), my = parseFloat(ps.marginTop) + parseFloat(ps.marginBottom);
    probe.style.width = `${colW - mx}px`;
    const itemH = probe.offsetHeight + my;
    probe.remove();
    geo = { width, cols, colW, itemW: colW - mx, itemH, pitchX: colW + gapX, pitchY: itemH + gapY, gapY };
    for (const [i, el] of nodes) place(el, i);
    if (old && top > 0) { // keep the first item in view where it was (a resize changes the columns)
      const first = Math.floor(top / old.pitchY) * old.cols;
      anchor = Math.floor(first / cols) * geo.pitchY - Math.floor(first / old.cols) * old.pitchY;
    }
    return true;
  };
  const viewTop = () => scrollEl.getBoundingClientRect().top - box.getBoundingClientRect().top;
  let anchor = 0; // px to scroll by once the box has its new height

  const place = (el, i) => {
    el.style.width = `${geo.itemW}px`;
    el.style.transform = `translate(${(i % geo.cols) * geo.pitchX}px, ${Math.floor(i / geo.cols) * geo.pitchY}px)`;
  };

  const make = (i) => {
    const item = source.items[i];
    const el = item ? render(item, i) : skeleton();
    el.dataset.vi = i;
    if (item) {
      el.setAttribute('role', 'listitem');
      el.setAttribute('aria-posinset', String(i + 1));
      el.setAttribute('aria-setsize', source.exact ? String(source.length) : '-1');
    } else {
      el.setAttribute('aria-hidden', 'true');
      el.classList.add('skeleton');
    }
    place(el, i);
    return el;
  };

  const schedule = () => { if (!frame && !destroyed) frame = requestAnimationFrame(update); };

  function update() {
    frame = 0;
    if (destroyed || !box.isConnected) return;
    if ((!geo || geo.width !== box.clientWidth) && !layout()) return;
    const total = source.length;
    if (source.done && total === 0 && empty) { box.replaceWith(empty); return; }
    const rows = Math.ceil(total / geo.cols);
    box.style.height = `${Math.max(0, rows * geo.pitchY - geo.gapY)}px`;
    if (anchor) { scrollEl.scrollTop += anchor; anchor = 0; }
    const top = viewTop(), bottom = top + scrollEl.clientHeight;
    const r0 = Math.max(0, Math.floor((top - OVERSCAN_PX) / geo.pitchY));
    const r1 = Math.min(rows - 1, Math.floor((bottom + OVERSCAN_PX) / geo.pitchY));
    const from = r0 * geo.cols, to = Math.min(total, (r1 + 1) * geo.cols); // [from, to)
    render_(from, to);
    // Tab enters the list at an item in view, not at one rendered above it for smooth scrolling:
    // items wholly out of view are inert (the focused one excepted, which keeps focus when scrolled away)
    const vFrom = Math.max(0, Math.floor(top / geo.pitchY)) * geo.cols;
    const vTo = (Math.floor(bottom / geo.pitchY) + 1) * geo.cols;
    const focused = document.activeElement?.closest?.('[data-vi]');
    for (const [i, el] of nodes) el.inert = (i < vFrom || i >= vTo) && el !== focused;
    if (speed < FAST_PX_S) loadDeferred(box);
    // ask for what is in view plus about a screen beyond it
    const ahead = to + Math.ceil(scrollEl.clientHeight / geo.pitchY) * geo.cols;
    if (!source.done && source.items.length < ahead) {
      source.ensure(ahead).then(() => { if (source.error) failed(null); }, failed);
    }
  }

  function render_(from, to) {
    const focused = document.activeElement?.closest?.('[data-vi]');
    const keep = focused && box.contains(focused) ? Number(focused.dataset.vi) : -1;
    for (const [i, el] of nodes) {
      const stale = el.classList.contains('skeleton') && source.items[i];
      if ((i < from || i >= to || stale) && i !== keep) { el.remove(); nodes.delete(i); }
    }
    const have = [...nodes.keys()].sort((a, b) => a - b);
    let k = 0;
    for (let i = from; i < to; i++) {
      while (k < have.length && have[k] < i) k++;
      if (nodes.has(i)) continue;
      const el = make(i);
      nodes.set(i, el);
      box.insertBefore(el, k < have.length ? nodes.get(have[k]) : null);
    }
  }

  /** Move focus to item i (Infinity: the last one), loading, scrolling and rendering it first. */
  async function focusIndex(i) {
    if (i >= source.items.length && !source.done) {
      try {
        await source.ensure(i === Infinity ? Infinity : i + 1);
      } catch (err) {
        failed(err); // focus stays where it is; the page is asked again later
        return;
      }
      if (source.error) { failed(null); return; } // failed moments ago: not asked again yet
    }
    i = Math.max(0, Math.min(source.items.length - 1, i));
    if (!source.items[i] || !geo || destroyed) return;
    const y = Math.floor(i / geo.cols) * geo.pitchY;
    const top = viewTop(), pad = 96;
    if (y < top + pad) scrollEl.scrollTop += y - top - pad;
    else if (y + geo.itemH > top + scrollEl.clientHeight - pad) scrollEl.scrollTop += y + geo.itemH - (top + scrollEl.clientHeight - pad);
    update();
    nodes.get(i)?.focus({ preventScroll: true });
  }

  box.addEventListener('keydown', (e) => {
    const item = e.target.closest?.('[data-vi]');
    if (!item || !geo || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.target !== item && !(columns && e.target.matches('a'))) return; // keys inside a row's controls stay theirs
    const i = Number(item.dataset.vi), perPage = Math.max(1, Math.floor(scrollEl.clientHeight / geo.pitchY)) * geo.cols;
    const to = {
      ArrowDown: i + geo.cols, ArrowUp: i - geo.cols, PageDown: i + perPage, PageUp: i - perPage, Home: 0, End: source.length - 1,
      ...(columns ? { ArrowRight: i + 1, ArrowLeft: i - 1 } : {}),
    }[e.key];
    if (to === undefined || to < 0 || to >= source.length) return;
    e.preventDefault();
    e.stopPropagation();
    focusIndex(e.key === 'End' ? Infinity : to);
  });

  // the scroller's size sets the columns and how many rows are in view (the box itself is not observed:
  // its height is ours to set, and setting it from its own resize callback would loop)
  const ro = new ResizeObserver(() => update());
  // media (covers) load when the list rests or moves slowly, not for every item a fast scroll flies past
  let lastY = 0, lastT = 0, speed = 0, restTimer = 0;
  const onScroll = () => {
    const now = performance.now(), y = scrollEl.scrollTop;
    speed = Math.abs(y - lastY) / Math.max(1, now - lastT) * 1000; // px/s
    lastY = y;
    lastT = now;
    clearTimeout(restTimer);
    restTimer = setTimeout(() => { speed = 0; loadDeferred(box); }, REST_MS);
    schedule();
  };
  box.connected = () => { // in the document: size, place and show the first items before the first paint
    destroyed = false;
    scrollEl = scroller || box.closest('main') || document.scrollingElement;
    scrollEl.addEventListener('scroll', onScroll, { passive: true });
    ro.observe(scrollEl);
    update();
  };
  box.disconnected = () => {
    destroyed = true;
    clearTimeout(restTimer);
    clearTimeout(retryTimer);
    retryTimer = 0;
    cancelAnimationFrame(frame);
    frame = 0;
    ro.disconnect();
    scrollEl?.removeEventListener('scroll', onScroll);
  };
  const onChange = () => {
    failing = false;
    for (const el of nodes.values()) if (!el.classList.contains('skeleton')) el.setAttribute('aria-setsize', source.exact ? String(source.length) : '-1');
    schedule();
  };
  source.addEventListener('change', onChange);

  box.destroy = () => { box.disconnected(); source.removeEventListener('change', onChange); };
  box.focusIndex = focusIndex;
  return box;
}
