// The console's list of order requests customers confirmed in the chat (cancel, return,
// a new delivery address) and how their delivery to the shop went. Text nodes only.

import { el } from './dom.js';

const KINDS = { cancel: 'Cancel', return: 'Return', address: 'New address' };

function what(r) {
  const d = r.details || {};
  if (r.kind === 'return') return (d.items || []).join(', ');
  if (r.kind === 'address') return d.address || '';
  return '';
}

export function orderRequestsPanel(call) {
  const body = el('div', { 'aria-live': 'polite' });
  const load = async () => {
    const found = await call('GET', '/requests');
    if (!found.enabled) {
      body.replaceChildren(el('p', { text: 'Order requests are off (orders or requests disabled).' }));
      return;
    }
    if (!found.requests.length) {
      body.replaceChildren(el('p', { text: 'No requests yet.' }));
      return;
    }
    const head = el(
      'tr',
      {},
      ...['Reference', 'Request', 'Order', 'Details', 'Received', 'Delivery'].map((h) =>
        el('th', { scope: 'col', text: h }),
      ),
    );
    const rows = found.requests.map((r) =>
      el(
        'tr',
        {},
        el('td', { text: r.reference }),
        el('td', { text: KINDS[r.kind] || r.kind }),
        el('td', { text: r.order_number }),
        el('td', { text: what(r) }),
        el('td', { text: new Date(r.created_at).toLocaleString() }),
        el('td', {
          class: `adm-delivery adm-delivery-${r.delivery}`,
          text: r.last_error && r.delivery !== 'delivered' ? `${r.delivery} (${r.last_error})` : r.delivery,
        }),
      ),
    );
    body.replaceChildren(el('table', { class: 'adm-requests' }, el('thead', {}, head), el('tbody', {}, ...rows)));
  };
  const panel = el(
    'section',
    { 'aria-labelledby': 'adm-requests' },
    el('h2', { id: 'adm-requests', text: 'Order requests' }),
    el('button', { type: 'button', class: 'adm-quiet', text: 'Refresh', onclick: () => load() }),
    body,
  );
  load().catch((error) => body.replaceChildren(el('p', { class: 'adm-error', text: error.message })));
  return panel;
}
