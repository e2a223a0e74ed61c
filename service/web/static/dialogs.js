// The chat's dialogs: talk to a person, look up an order, read an FAQ entry. Each is
// built once for a ChatView (view) and returns { node, reset?, focus? }; the view opens
// and closes them.

import { ApiError, getJSON, postJSON } from './api.js';
import { el, uid } from './dom.js';
import { explain } from './explain.js';
import { renderMarkdown } from './markdown.js';

// A modal dialog with a title and a close button; focus returns to what opened it.
function shell(view, name, title, ...content) {
  const titleId = uid(`${name}-title`);
  const node = el(
    'dialog',
    { class: 'fb-dialog', 'aria-labelledby': titleId },
    el(
      'div',
      { class: 'fb-dialog-head' },
      el('h2', { id: titleId, text: title }),
      el('button', {
        type: 'button',
        class: 'fb-close',
        'aria-label': view.t.close,
        text: '×',
        onclick: () => view.close(name),
      }),
    ),
    ...content,
  );
  node.addEventListener('close', () => {
    if (view.opener) view.opener.focus();
  });
  return node;
}

function field(label, input) {
  input.id = input.id || uid('field');
  return el('div', { class: 'fb-field' }, el('label', { for: input.id, text: label }), input);
}

// A request for a person: name, email, the question (the last one asked, to start with).
export function handoffDialog(view) {
  const t = view.t;
  const name = el('input', { name: 'name', autocomplete: 'name', required: true, maxlength: '100' });
  const email = el('input', {
    name: 'email',
    type: 'email',
    autocomplete: 'email',
    required: true,
    maxlength: '254',
  });
  const message = el('textarea', { name: 'message', rows: '4', required: true, maxlength: '4000' });
  const status = el('p', { class: 'fb-dialog-status', role: 'status' });
  const submit = el('button', { type: 'submit', class: 'fb-send', text: t.sendToTeam });
  const form = el(
    'form',
    {
      novalidate: false,
      onsubmit: async (e) => {
        e.preventDefault();
        submit.disabled = true;
        status.textContent = t.sending;
        try {
          const receipt = await postJSON(view.base, '/v1/handoff', {
            name: name.value,
            email: email.value,
            message: message.value,
            session_id: view.session || undefined,
            lang: view.lang,
          });
          form.hidden = true;
          status.textContent = `${receipt.message} ${t.reference({ reference: receipt.reference })}`;
          view.log.append(el('p', { class: 'fb-notice', text: t.requestSent({ reference: receipt.reference }) }));
          view.listen(); // a person may answer right here
        } catch (error) {
          status.textContent = explain(error, view.config.contact, t);
        } finally {
          submit.disabled = false;
        }
      },
    },
    el('p', { text: t.handoffIntro }),
    field(t.yourName, name),
    field(t.yourEmail, email),
    field(t.howHelp, message),
    submit,
  );
  const node = shell(view, 'handoff', t.talkToPerson, form, status);
  return {
    node,
    reset: () => {
      form.hidden = false;
      status.textContent = '';
      const last = [...view.log.querySelectorAll('.fb-user p')].pop();
      if (last && !message.value) message.value = last.textContent;
    },
    focus: () => name.focus(),
  };
}

// Where is my order: the number and the email (or postal code) that verify it.
export function orderDialog(view) {
  const t = view.t;
  const number = el('input', {
    name: 'order_number',
    autocomplete: 'off',
    required: true,
    maxlength: '32',
    placeholder: 'NW-100234',
  });
  const email = el('input', { name: 'email', type: 'email', autocomplete: 'email', maxlength: '254' });
  const postal = el('input', { name: 'postal_code', autocomplete: 'postal-code', maxlength: '16' });
  const status = el('p', { class: 'fb-dialog-status', role: 'status' });
  const submit = el('button', { type: 'submit', class: 'fb-send', text: t.lookUp });
  const allowPostal = view.config.allow_postal_code;
  const form = el(
    'form',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        const body = {
          order_number: number.value.trim(),
          email: email.value.trim() || undefined,
          session_id: view.session || undefined,
        };
        if (allowPostal) body.postal_code = postal.value.trim() || undefined;
        if (!body.email && !body.postal_code) {
          status.textContent = allowPostal ? t.giveEmailOrPostal : t.giveEmail;
          return;
        }
        submit.disabled = true;
        status.textContent = t.lookingUp;
        try {
          const order = await postJSON(view.base, '/v1/orders/lookup', body);
          view.session = order.session_id;
          status.textContent = t.found({ number: order.order_number, status: order.status.replace(/_/g, ' ') });
          view.log.append(view.answerShell({ answer: order.summary, mode: 'order', sources: [] }));
          view.suggestions.hidden = true;
          view.close('order');
          view.scroll();
        } catch (error) {
          status.textContent = orderProblem(view, error);
        } finally {
          submit.disabled = false;
        }
      },
    },
    field(t.orderNumber, number),
    field(t.orderEmail, email),
    allowPostal ? field(t.orPostal, postal) : null,
    submit,
  );
  const node = shell(view, 'order', t.orderStatus, form, status);
  return {
    node,
    reset: () => {
      status.textContent = '';
    },
    focus: () => number.focus(),
  };
}

function orderProblem(view, error) {
  if (error instanceof ApiError) {
    if (error.kind === 'denied') return view.t.orderDenied;
    if (error.kind === 'busy' || error.kind === 'unavailable')
      return view.lang === 'en' ? error.message : explain(error, view.config.contact, view.t);
    if (error.kind === 'invalid') return view.t.orderInvalid;
  }
  return explain(error, view.config.contact, view.t);
}

// An FAQ entry in full, opened from a cited source.
export function entryDialog(view) {
  const body = el('div', { class: 'fb-entry' });
  const node = shell(view, 'entry', view.t.fromFaq, body);
  return { node, body };
}

export async function showEntry(view, id, opener) {
  const d = view.dialogs.entry;
  d.body.replaceChildren(el('p', { text: view.t.loading }));
  view.open('entry', opener);
  try {
    const entry = await getJSON(view.base, `/v1/entries/${encodeURIComponent(id)}`);
    const parts = [el('h3', { text: entry.title }), el('div', { class: 'fb-text' }, renderMarkdown(entry.answer))];
    if (entry.updated) parts.push(el('p', { class: 'fb-updated', text: view.t.updated({ date: entry.updated }) }));
    if (/^https?:\/\//i.test(entry.url))
      parts.push(
        el('p', {}, el('a', { href: entry.url, rel: 'noopener noreferrer', target: '_blank', text: view.t.openHelp })),
      );
    d.body.replaceChildren(...parts);
  } catch (error) {
    d.body.replaceChildren(el('p', { class: 'fb-error', text: explain(error, view.config.contact, view.t) }));
  }
}
