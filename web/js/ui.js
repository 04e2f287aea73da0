// Small DOM helpers shared by the views: element builder, icons, covers, formatting, toasts, menus.

import { tr } from './i18n.js';

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'style' && typeof v === 'object') for (const [p, x] of Object.entries(v)) el.style.setProperty(p.startsWith('--') ? p : p.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()), x);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const SVGNS = 'http://www.w3.org/2000/svg';
const PATHS = {
  play: 'M8 5.14v13.72a1 1 0 0 0 1.52.85l10.6-6.86a1 1 0 0 0 0-1.7L9.52 4.29A1 1 0 0 0 8 5.14z',
  pause: 'M7 5h3.2v14H7zM13.8 5H17v14h-3.2z',
  next: 'M6 6.5v11a.8.8 0 0 0 1.25.66L15 12.66V17.5h2v-11h-2v4.84L7.25 5.84A.8.8 0 0 0 6 6.5z',
  prev: 'M18 6.5v11a.8.8 0 0 1-1.25.66L9 12.66V17.5H7v-11h2v4.84l7.75-5.5A.8.8 0 0 1 18 6.5z',
  shuffle: 'M16 3h5v5l-1.8-1.8-4.1 4.1-1.4-1.4 4.1-4.1zM3 5.6 4.4 4.2l15.4 15.4-1.4 1.4zM14.7 13.3l1.4-1.4 3.1 3.1L21 13.2V18h-4.8l1.8-1.8z',
  repeat: 'M7 7h10v3l4-4-4-4v3H5v6h2zm10 10H7v-3l-4 4 4 4v-3h12v-6h-2z',
  repeat1: 'M7 7h10v3l4-4-4-4v3H5v6h2zm10 10H7v-3l-4 4 4 4v-3h12v-6h-2zM11 9.5h1.6V15H11v-3.6l-1 .5V10.5z',
  home: 'M12 3 3 10.2V21h6.5v-6h5v6H21V10.2z',
  album: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 13.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7zm0-5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z',
  artist: 'M12 12a4.5 4.5 0 1 0 0-9 4.5 4.5 0 0 0 0 9zm0 2c-4.4 0-8 2.2-8 5v2h16v-2c0-2.8-3.6-5-8-5z',
  genre: 'M4 4h7v7H4zm9 0h7v7h-7zM4 13h7v7H4zm9 3.5a3.5 3.5 0 1 0 7 0 3.5 3.5 0 0 0-7 0z',
  tracks: 'M4 6h12v2H4zm0 5h12v2H4zm0 5h8v2H4zm14-10v8.2a3 3 0 1 0 2 2.8V8h2V6z',
  search: 'M10.5 3a7.5 7.5 0 0 1 6 12l4.8 4.8-1.4 1.4-4.8-4.8A7.5 7.5 0 1 1 10.5 3zm0 2a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11z',
  playlist: 'M3 5h13v2H3zm0 4h13v2H3zm0 4h8v2H3zm15-4v7.2a2.8 2.8 0 1 0 2 2.7V11h2V9z',
  queue: 'M3 6h14v2H3zm0 5h14v2H3zm0 5h9v2H3zm13 0 5-3v6z',
  download: 'M11 3h2v9.2l3.3-3.3 1.4 1.4L12 16l-5.7-5.7 1.4-1.4 3.3 3.3zM5 18h14v2H5z',
  done: 'M9.5 16.2 5.3 12l-1.4 1.4 5.6 5.6L20.1 8.4 18.7 7z',
  settings: 'M19.4 13a7.5 7.5 0 0 0 0-2l2.1-1.6-2-3.4-2.5 1a7.6 7.6 0 0 0-1.7-1L15 3.3h-4l-.4 2.7a7.6 7.6 0 0 0-1.7 1l-2.5-1-2 3.4L6.6 11a7.5 7.5 0 0 0 0 2l-2.1 1.6 2 3.4 2.5-1a7.6 7.6 0 0 0 1.7 1l.4 2.7h4l.4-2.7a7.6 7.6 0 0 0 1.7-1l2.5 1 2-3.4zM12 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7z',
  status: 'M3 13h4l3-8 4 14 3-6h4v-2h-5.2L14 14.2 10 1.8 5.6 11H3z',
  federation: 'M12 2a3 3 0 1 1 0 6 3 3 0 0 1 0-6zM5 15a3 3 0 1 1 0 6 3 3 0 0 1 0-6zm14 0a3 3 0 1 1 0 6 3 3 0 0 1 0-6zM11 8.8h2v3.1l4.7 3.2-1.1 1.6L12 13.6l-4.6 3.1-1.1-1.6L11 11.9z',
  stats: 'M4 20V10h3v10zm6.5 0V4h3v16zM17 20v-7h3v7z',
  more: 'M12 7.5a1.75 1.75 0 1 1 0-3.5 1.75 1.75 0 0 1 0 3.5zm0 6.25a1.75 1.75 0 1 1 0-3.5 1.75 1.75 0 0 1 0 3.5zM12 20a1.75 1.75 0 1 1 0-3.5 1.75 1.75 0 0 1 0 3.5z',
  close: 'M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z',
  volume: 'M4 9v6h4l5 5V4L8 9zm12.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z',
  mute: 'M4 9v6h4l5 5V4L8 9zm12.6 3 2.7-2.7-1.4-1.4-2.7 2.7-2.7-2.7-1.4 1.4 2.7 2.7-2.7 2.7 1.4 1.4 2.7-2.7 2.7 2.7 1.4-1.4z',
  heart: 'M12 20.5 10.6 19C5.4 14.4 2 11.3 2 7.5A5 5 0 0 1 7 2.5c1.8 0 3.7.9 5 2.3a6.6 6.6 0 0 1 5-2.3 5 5 0 0 1 5 5c0 3.8-3.4 6.9-8.6 11.5z',
  eq: 'M6 3h2v8H6zm0 12h2v6H6zM4 11h6v2H4zm7-8h2v3h-2zm0 7h2v11h-2zm-2-4h6v2H9zm7-3h2v11h-2zm0 15h2v3h-2zm-2-4h6v2h-6z',
  lyrics: 'M4 4h16v12H7l-3 3zm3 4v2h10V8zm0 3v2h7v-2z',
  plus: 'M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z',
  drag: 'M9 5h2v2H9zm4 0h2v2h-2zM9 11h2v2H9zm4 0h2v2h-2zm-4 6h2v2H9zm4 0h2v2h-2z',
  trash: 'M9 3h6l1 2h4v2H4V5h4zM6 9h12l-1 12H7z',
  chevron: 'M15.4 7.4 14 6l-6 6 6 6 1.4-1.4L10.8 12z',
  expand: 'M7 14l5-5 5 5z',
  podcast: 'M12 2a3.5 3.5 0 0 1 3.5 3.5v5a3.5 3.5 0 0 1-7 0v-5A3.5 3.5 0 0 1 12 2zM6 10.5h2a4 4 0 0 0 8 0h2a6 6 0 0 1-5 5.9V19h3v2H8v-2h3v-2.6a6 6 0 0 1-5-5.9z',
  radio: 'M4 8h16a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V9a1 1 0 0 1 1-1zm4 10a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5zM6 7 17 3l.6 1.6L10 7z',
  pin: 'M16 9V4h1a1 1 0 1 0 0-2H7a1 1 0 0 0 0 2h1v5a3 3 0 0 1-3 3v2h5.97v7l1 1 1-1v-7H19v-2a3 3 0 0 1-3-3z',
  share: 'M18 16.08c-.76 0-1.44.3-1.96.77L8.91 12.7c.05-.23.09-.46.09-.7s-.04-.47-.09-.7l7.05-4.11A2.99 2.99 0 0 0 21 5a3 3 0 1 0-5.91.7L8.04 9.81A3 3 0 1 0 6 15c.79 0 1.5-.31 2.04-.81l7.12 4.16c-.05.21-.08.43-.08.65A2.92 2.92 0 1 0 18 16.08z',
  copy: 'M16 1H4a2 2 0 0 0-2 2v14h2V3h12zm3 4H8a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2zm0 16H8V7h11z',
  logout: 'M10 17l1.4-1.4-2.6-2.6H20v-2H8.8l2.6-2.6L10 7l-5 5zM4 3h8v2H4v14h8v2H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z',
};

export function icon(name, size = 20) {
  const svg = document.createElementNS(SVGNS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', size);
  svg.setAttribute('height', size);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'icon');
  const p = document.createElementNS(SVGNS, 'path');
  p.setAttribute('d', PATHS[name] || PATHS.more);
  svg.append(p);
  return svg;
}

export function iconButton(name, label, onclick, { class: cls = '', size = 20, ...attrs } = {}) {
  return h('button', { type: 'button', class: 'icon-btn ' + cls, 'aria-label': label, title: label, onclick, ...attrs }, icon(name, size));
}

/**
 * A cover in an aspect-ratio box: no layout shift, a gradient placeholder, fades in when loaded.
 * defer: the image is only fetched when loadDeferred() is called on an ancestor (windowed lists do
 * so once the list rests, so a fast scroll does not fetch every cover it flies past).
 */
export function cover(url, { size = 300, alt = '', seed = '', cls = '', defer = false } = {}) {
  const box = h('div', { class: 'cover ' + cls, style: { '--ph': placeholderHue(seed || url || alt) } });
  if (url) {
    const img = h('img', { alt, loading: 'lazy', decoding: 'async', width: size, height: size, draggable: 'false' });
    img.addEventListener('load', () => box.classList.add('loaded'), { once: true });
    img.addEventListener('error', () => { img.remove(); box.classList.add('missing'); }, { once: true });
    const src = url + (url.includes('?') ? '&' : '?') + 'size=' + size;
    if (defer) img.dataset.src = src;
    else img.src = src;
    box.append(img);
  } else {
    box.classList.add('missing');
  }
  return box;
}

/** Fetch the deferred covers inside `root` (see cover()). */
export function loadDeferred(root) {
  for (const img of root.querySelectorAll('img[data-src]')) {
    img.src = img.dataset.src;
    img.removeAttribute('data-src');
  }
}

function placeholderHue(s) {
  let x = 0;
  for (const c of String(s)) x = (x * 31 + c.charCodeAt(0)) >>> 0;
  return String(x % 360);
}

export function fmtTime(sec) {
  if (!isFinite(sec) || sec < 0) sec = 0;
  sec = Math.floor(sec);
  const hh = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), s = sec % 60;
  return (hh ? hh + ':' + String(m).padStart(2, '0') : m) + ':' + String(s).padStart(2, '0');
}

export { fmtBytes, fmtDuration } from './i18n.js'; // in the chosen language (Intl)

/** "Repeat: off", "Repeat: all", "Repeat: one" */
export function repeatLabel(mode) {
  return mode === 'one' ? tr('player.repeat_one') : mode === 'all' ? tr('player.repeat_all') : tr('player.repeat_off');
}

let toastHost;
export function toast(message, { error = false, timeout = 3500 } = {}) {
  if (!toastHost) {
    toastHost = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(toastHost);
  }
  const t = h('div', { class: 'toast' + (error ? ' error' : '') }, message);
  toastHost.append(t);
  setTimeout(() => { t.classList.add('out'); setTimeout(() => t.remove(), 300); }, timeout);
}

/** A popup menu anchored to a button; items: [{label, icon, action}] or null for a separator. */
export function openMenu(anchor, items) {
  closeMenu();
  const menu = h('div', { class: 'menu', role: 'menu' });
  for (const it of items) {
    if (!it) { menu.append(h('div', { class: 'menu-sep', role: 'separator' })); continue; }
    menu.append(h('button', {
      type: 'button', role: 'menuitem', class: 'menu-item',
      onclick: (e) => { e.stopPropagation(); closeMenu(); it.action(); },
    }, it.icon ? icon(it.icon, 18) : null, h('span', {}, it.label)));
  }
  document.body.append(menu);
  const r = anchor.getBoundingClientRect();
  const mw = menu.offsetWidth, mh = menu.offsetHeight;
  let left = Math.min(r.right - mw, innerWidth - mw - 8);
  left = Math.max(8, left);
  let top = r.bottom + 4;
  if (top + mh > innerHeight - 8) top = Math.max(8, r.top - mh - 4);
  menu.style.left = left + 'px';
  menu.style.top = top + 'px';
  menu.querySelector('button')?.focus();
  menu.addEventListener('keydown', (e) => {
    const btns = [...menu.querySelectorAll('button')];
    const i = btns.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') { e.preventDefault(); btns[(i + 1) % btns.length].focus(); }
    if (e.key === 'ArrowUp') { e.preventDefault(); btns[(i - 1 + btns.length) % btns.length].focus(); }
    if (e.key === 'Escape' || e.key === 'Tab') { closeMenu(); anchor.focus(); }
  });
  setTimeout(() => document.addEventListener('click', closeMenu, { once: true }), 0);
}

export function closeMenu() {
  document.removeEventListener('click', closeMenu); // a menu closed by a key must not close the next one opened by a click
  document.querySelectorAll('.menu').forEach((m) => m.remove());
}

/** A modal dialog (the native <dialog>); resolves with the form's values or null. */
export function prompt(title, { label = tr('dialog.name'), value = '', ok = tr('dialog.save') } = {}) {
  return new Promise((resolve) => {
    const input = h('input', { name: 'value', value, required: true, autocomplete: 'off', 'aria-label': label });
    const dlg = h('dialog', { class: 'dialog', 'aria-label': title },
      h('form', { method: 'dialog' },
        h('h2', {}, title),
        h('label', { class: 'field' }, h('span', {}, label), input),
        h('div', { class: 'row end' },
          h('button', { type: 'button', class: 'btn ghost', onclick: () => { dlg.close(); resolve(null); } }, tr('dialog.cancel')),
          h('button', { type: 'submit', class: 'btn primary' }, ok))));
    dlg.addEventListener('close', () => { if (dlg.returnValue !== 'cancel') resolve(input.value.trim() || null); dlg.remove(); });
    dlg.addEventListener('cancel', () => resolve(null));
    document.body.append(dlg);
    dlg.showModal();
    input.select();
  });
}

/** A yes/no modal (the native <dialog>); resolves true when confirmed. danger: a red confirm button. */
export function confirmDialog(title, message, { ok = tr('dialog.ok'), danger = false } = {}) {
  return new Promise((resolve) => {
    let answer = false;
    const okBtn = h('button', { type: 'button', class: 'btn ' + (danger ? 'danger' : 'primary'), onclick: () => { answer = true; dlg.close(); } }, ok);
    const dlg = h('dialog', { class: 'dialog', role: 'alertdialog', 'aria-label': title },
      h('h2', {}, title),
      message ? h('p', { class: 'muted' }, message) : null,
      h('div', { class: 'row end' },
        h('button', { type: 'button', class: 'btn ghost', onclick: () => dlg.close() }, tr('dialog.cancel')), okBtn));
    dlg.addEventListener('close', () => { dlg.remove(); resolve(answer); });
    document.body.append(dlg);
    dlg.showModal();
    okBtn.focus();
  });
}

/** Copy text to the clipboard; falls back to a selection and execCommand where the API is refused. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h('textarea', { readonly: true, style: { position: 'fixed', opacity: '0', top: '0', left: '0' } });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
    return ok;
  }
}

export function debounce(fn, ms) {
  let t;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}
