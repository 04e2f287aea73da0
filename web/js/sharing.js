// Share links: the Share dialog (a description, how long the link lasts, downloads allowed or not → a
// link to copy) and the Shares page (your links, and for admins everyone's, each revocable). The link
// opens a public page of the node (/s/<token>) that needs no account; see docs/web.md.

import { api, has } from './api.js';
import { confirmDialog, copyText, h, icon, toast } from './ui.js';
import { fmtDate, tr, trn } from './i18n.js';

const DAY_MS = 86400000;
const lasts = () => [['1', tr('sharing.lasts_day')], ['7', tr('sharing.lasts_week')], ['30', tr('sharing.lasts_month')],
  ['365', tr('sharing.lasts_year')]];

/** Whether this node serves share links (and the menus offer Share). */
export const canShare = () => has('/api/v1/shares');

/** The Share action for menus: ``ids`` (songs, an album or a playlist) and what to call them. */
export function shareItem(ids, title) {
  return canShare() ? { label: tr('sharing.action'), icon: 'share', action: () => shareDialog(ids, title) } : null;
}

/** Ask how to share, create the link, and show it with a Copy button. */
export function shareDialog(ids, title) {
  const description = h('input', { name: 'description', maxlength: 1000, autocomplete: 'off', placeholder: tr('sharing.description_hint') });
  const lasting = h('select', { name: 'lasts' }, lasts().map(([days, label]) => h('option', { value: days, selected: days === '30' }, label)));
  const downloadable = h('input', { type: 'checkbox', name: 'downloadable' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const create = h('button', { type: 'submit', class: 'btn primary' }, tr('sharing.create'));
  const form = h('form', { class: 'share-form' },
    h('h2', {}, tr('sharing.title', { title })),
    h('label', { class: 'field' }, h('span', {}, tr('sharing.description')), description),
    h('label', { class: 'field' }, h('span', {}, tr('sharing.lasts')), lasting),
    h('label', { class: 'check' }, downloadable, h('span', {}, tr('sharing.downloadable'))),
    error,
    h('div', { class: 'row end' },
      h('button', { type: 'button', class: 'btn ghost', onclick: () => dlg.close() }, tr('dialog.cancel')), create));
  const dlg = h('dialog', { class: 'dialog share-dialog', 'aria-label': tr('sharing.action') }, form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    create.disabled = true;
    error.textContent = '';
    try {
      const share = await api('/shares', { method: 'POST', body: {
        ids, description: description.value.trim(), downloadable: downloadable.checked,
        expires_at: Date.now() + Number(lasting.value) * DAY_MS } });
      dlg.replaceChildren(linkPanel(share, () => dlg.close()));
    } catch (err) {
      error.textContent = err.message;
      create.disabled = false;
    }
  });
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  description.focus();
}

function copyButton(url) {
  const btn = h('button', { type: 'button', class: 'btn small copy-btn' }, icon('copy', 16), tr('sharing.copy'));
  btn.addEventListener('click', async () => {
    const ok = await copyText(url);
    btn.replaceChildren(icon(ok ? 'done' : 'copy', 16), ok ? tr('sharing.copied') : tr('sharing.copy_failed'));
    setTimeout(() => btn.replaceChildren(icon('copy', 16), tr('sharing.copy')), 2000);
  });
  return btn;
}

function linkPanel(share, done) {
  const link = h('input', { class: 'share-link', readonly: true, value: share.url, 'aria-label': tr('sharing.link') });
  link.addEventListener('focus', () => link.select());
  return h('div', { class: 'share-created' },
    h('h2', {}, tr('sharing.ready')),
    h('p', { class: 'muted' }, share.expires_at ? tr('sharing.until', { date: fmtDate(share.expires_at * 1000) }) : tr('sharing.no_expiry')),
    h('div', { class: 'row' }, link, copyButton(share.url)),
    h('div', { class: 'row end' }, h('button', { type: 'button', class: 'btn primary', onclick: done }, tr('dialog.ok'))));
}

/** The Shares page: your links; admins may show everyone's. Each can be copied or revoked. */
export async function sharesView(ctx, user) {
  const admin = ['owner', 'admin'].includes(user.role);
  const all = admin && ctx.params.get('all') === '1';
  const data = await api(`/shares${all ? '?all=true' : ''}`, { signal: ctx.signal });
  const rows = data.items.map((s) => shareRow(s, all));
  const notice = data.enabled ? null : h('p', { class: 'notice' }, tr('sharing.turned_off'));
  const toggle = admin ? h('a', { class: 'btn small', href: all ? '/shares' : '/shares?all=1' }, all ? tr('sharing.show_mine') : tr('sharing.show_all')) : null;
  return h('div', { class: 'page shares-page', dataset: { title: tr('sharing.page_title') } },
    h('header', { class: 'page-header' }, h('h1', {}, tr('sharing.page_title')), toggle),
    notice,
    rows.length ? h('ul', { class: 'share-list', 'aria-label': tr('sharing.page_title') }, rows)
      : h('div', { class: 'empty' }, h('p', { class: 'muted' }, tr('sharing.none'))));
}

function shareRow(s, showOwner) {
  const row = h('li', { class: 'share-row' + (s.expired ? ' expired' : ''), dataset: { id: s.id } },
    h('div', { class: 'share-what' },
      h('strong', {}, s.title),
      s.description ? h('span', { class: 'muted' }, ' — ', s.description) : null,
      h('div', { class: 'muted small' }, [
        showOwner ? tr('sharing.by', { name: s.username }) : null,
        s.expired ? tr('sharing.expired') : s.expires_at ? tr('sharing.until', { date: fmtDate(s.expires_at * 1000) }) : tr('sharing.no_expiry'),
        trn('sharing.visits', s.visit_count),
        s.downloadable ? tr('sharing.downloads_allowed') : null,
      ].filter(Boolean).join(' · '))),
    s.expired ? null : copyButton(s.url),
    h('button', { type: 'button', class: 'btn small danger', onclick: async () => {
      if (!await confirmDialog(tr('sharing.revoke_title'), tr('sharing.revoke_message'), { ok: tr('sharing.revoke'), danger: true })) return;
      try {
        await api(`/shares/${encodeURIComponent(s.id)}`, { method: 'DELETE' });
        row.remove();
        toast(tr('sharing.revoked'));
      } catch (err) { toast(err.message, { error: true }); }
    } }, tr('sharing.revoke')));
  return row;
}
