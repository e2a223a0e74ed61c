// The agents' inbox: customers who asked for a person. Claim one, read the conversation
// (with the bot's answers and their modes), reply, hand back to the bot or close. Polls
// every few seconds; every text is a text node.

import { el } from './dom.js';

const POLL_MS = 2000;

function turnsView(detail) {
  const items = [];
  // the bot's turns; what was said while a person held it is in the messages below
  for (const turn of (detail.turns || []).filter((t) => t.mode !== 'waiting' && t.mode !== 'human')) {
    items.push(el('li', { class: 'adm-turn-q', text: `Customer: ${turn.question}` }));
    items.push(el('li', { class: 'adm-turn-a', text: `Bot (${turn.mode}): ${turn.answer}` }));
  }
  items.push(el('li', { class: 'adm-turn-q', text: `Asked for a person: ${detail.message}` }));
  for (const m of detail.messages || []) {
    const who = m.author === 'agent' ? `${m.agent || 'Agent'}` : 'Customer';
    items.push(el('li', { class: m.author === 'agent' ? 'adm-turn-a' : 'adm-turn-q', text: `${who}: ${m.text}` }));
  }
  return el('ol', { class: 'adm-transcript', 'aria-label': 'Conversation' }, ...items);
}

export function agentInbox(call, me) {
  const list = el('div', { id: 'adm-handoffs', 'aria-live': 'polite' });
  const detail = el('div', { id: 'adm-handoff' });
  const note = el('p', { role: 'status' });
  let open = null;
  let timer = null;

  const act = async (path, body) => {
    try {
      await call('POST', `/handoffs/${open}/${path}`, body);
      note.textContent = '';
    } catch (error) {
      note.textContent = error.message;
    }
    await refresh();
  };

  const showDetail = (d) => {
    const mine = d.status === 'claimed' && d.agent === me.user;
    const reply = el('textarea', { id: 'adm-reply', rows: '3', maxlength: '4000' });
    const actions = el('div', { class: 'adm-actions' });
    if (d.status === 'open')
      actions.append(el('button', { type: 'button', text: 'Claim', onclick: () => act('claim') }));
    if (mine || d.status === 'open') {
      actions.append(
        el('button', {
          type: 'button',
          class: 'adm-quiet',
          text: 'Hand back to the bot',
          onclick: () => act('handback'),
        }),
        el('button', { type: 'button', class: 'adm-quiet', text: 'Close', onclick: () => act('close') }),
      );
    }
    const form = mine
      ? el(
          'form',
          {
            onsubmit: async (e) => {
              e.preventDefault();
              if (!reply.value.trim()) return;
              await act('reply', { text: reply.value });
              reply.value = '';
            },
          },
          el('label', { for: 'adm-reply', text: `Reply to ${d.name}` }),
          reply,
          el('button', { type: 'submit', text: 'Send reply' }),
        )
      : el('p', {
          text:
            d.status === 'claimed'
              ? `${d.agent} holds this conversation.`
              : d.status === 'open'
                ? 'Claim it to reply.'
                : `This conversation is ${d.status.replace('_', ' ')}.`,
        });
    const keep = detail.querySelector('#adm-reply');
    if (keep && mine) reply.value = keep.value; // a draft survives the refresh
    detail.replaceChildren(el('h3', { text: `${d.name} (${d.reference}), ${d.status}` }), turnsView(d), actions, form);
  };

  const refresh = async () => {
    try {
      const found = await call('GET', '/handoffs');
      list.replaceChildren(
        found.handoffs.length
          ? el(
              'ul',
              {},
              ...found.handoffs.map((h) =>
                el(
                  'li',
                  {},
                  el('button', {
                    type: 'button',
                    class: 'adm-quiet',
                    text: `${h.name} (${h.reference}): ${h.status}${h.agent ? `, ${h.agent}` : ''}`,
                    onclick: () => {
                      open = h.id;
                      refresh();
                    },
                  }),
                ),
              ),
            )
          : el('p', { text: 'Nobody is waiting for a person.' }),
      );
      if (open && !document.activeElement?.matches?.('#adm-reply')) showDetail(await call('GET', `/handoffs/${open}`));
    } catch (error) {
      note.textContent = error.message;
    }
  };

  const panel = el(
    'section',
    { 'aria-labelledby': 'adm-agents' },
    el('h2', { id: 'adm-agents', text: 'Customers waiting for a person' }),
    note,
    list,
    detail,
  );
  refresh();
  timer = setInterval(refresh, POLL_MS);
  panel.stop = () => clearInterval(timer);
  return panel;
}
