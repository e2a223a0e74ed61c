// The chat, as the page and the widget show it. Built with DOM calls only: the
// customer's text and the model's tokens are text nodes; only the final answer is
// rendered, by markdown.js, which allows bold, lists and safe links.

import { ApiError, getJSON, getMarkup, postJSON, streamChat } from './api.js';
import { entryDialog, handoffDialog, orderDialog, showEntry } from './dialogs.js';
import { el, uid } from './dom.js';
import { explain } from './explain.js';
import { listenForPerson } from './live.js';
import { labelsFor, loadLabels, pickLanguage } from './i18n.js';
import { renderMarkdown } from './markdown.js';

export { explain };

const MODE_KEYS = {
  canonical: 'modeFaq',
  extractive: 'modeFaq',
  fallback: 'modeFaq',
  generated: 'modeWritten',
  abstained: 'modeNone',
  order: 'modeOrder',
};
const STORAGE_KEY = 'faqbot-session';

export class ChatView {
  constructor(
    root,
    { base = '', heading = 'h1', storage = window.sessionStorage, languages = navigator.languages } = {},
  ) {
    this.root = root;
    // The page's texts in the browser's language where we have it; the server answers
    // each message in the language it is written in.
    this.lang = pickLanguage(languages || [navigator.language]);
    this.t = labelsFor(this.lang);
    root.setAttribute('lang', this.lang);
    this.base = base;
    this.heading = heading;
    this.storage = storage;
    this.config = null;
    this.busy = false;
  }

  get session() {
    return this.storage.getItem(STORAGE_KEY);
  }
  set session(id) {
    if (id) this.storage.setItem(STORAGE_KEY, id);
    else this.storage.removeItem(STORAGE_KEY);
  }

  async start() {
    const labels = loadLabels(this.lang); // fetched alongside the configuration
    // The chat's markup is the server's (pages.shell): the page's own when it is in this
    // language, else the shell the server renders for the widget.
    const page = this.root.querySelector(`.fb-composer[data-lang="${this.lang}"]`);
    const heading = this.heading === 'h1' ? 'h1' : 'h2';
    const shell = page ? null : getMarkup(this.base, `/v1/shell?lang=${this.lang}&heading=${heading}`);
    try {
      this.config = await getJSON(this.base, '/v1/config');
      if (shell) this.root.replaceChildren(...(await shell));
    } catch (error) {
      this.t = await labels;
      this.root.replaceChildren(el('p', { class: 'fb-error', role: 'alert', text: explain(error, 'us', this.t) }));
      return;
    }
    this.t = await labels;
    this.build();
    await this.restore();
  }

  // Takes over the server's markup: the composer sends without a page load, the
  // suggested questions ask in place, and the header gets the buttons for the dialogs.
  build() {
    const root = this.root;
    this.log = root.querySelector('.fb-log');
    this.input = root.querySelector('.fb-composer textarea');
    this.sendButton = root.querySelector('.fb-send');
    this.suggestions = root.querySelector('.fb-suggestions');
    // a page may hold more than one chat (the page and a widget): ids of its own
    this.questionId = uid('question');
    root.querySelector('.fb-composer .fb-label').htmlFor = this.questionId;
    this.input.id = this.questionId;
    this.input.required = true;
    this.input.addEventListener('keydown', (e) => this.onKey(e));
    root.querySelector('.fb-composer').addEventListener('submit', (e) => {
      e.preventDefault();
      this.ask(this.input.value);
    });
    for (const button of this.suggestions.querySelectorAll('.fb-suggestion')) {
      button.type = 'button';
      button.addEventListener('click', () => this.ask(button.value));
    }
    root.querySelector('.fb-footer').hidden = true; // the header's button offers a person
    root.querySelector('.fb-header').append(this.actions());
    this.dialogs = {
      handoff: handoffDialog(this),
      order: this.config.order_lookup ? orderDialog(this) : null,
      entry: entryDialog(this),
    };
    root.append(
      ...Object.values(this.dialogs)
        .filter(Boolean)
        .map((d) => d.node),
    );
    this.greet();
  }

  actions() {
    const t = this.t;
    return el(
      'div',
      { class: 'fb-actions' },
      this.config.order_lookup
        ? el('button', {
            type: 'button',
            class: 'fb-action',
            text: t.orderStatus,
            onclick: (e) => this.open('order', e.currentTarget),
          })
        : null,
      el('button', {
        type: 'button',
        class: 'fb-action',
        text: t.talkToPerson,
        onclick: (e) => this.open('handoff', e.currentTarget),
      }),
      el('button', { type: 'button', class: 'fb-action', text: t.newConversation, onclick: () => this.reset() }),
    );
  }

  greet() {
    this.log.replaceChildren(
      el('article', { class: 'fb-msg fb-bot' }, el('p', { text: this.t.greeting || this.config.greeting })),
    );
    this.suggestions.hidden = !this.suggestions.children.length;
  }

  reset() {
    this.live?.close();
    this.live = null;
    this.session = null;
    this.greet();
    this.input.value = '';
    this.input.focus();
  }

  onKey(event) {
    // Enter sends, Shift+Enter starts a new line.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.ask(this.input.value);
    }
  }

  async restore() {
    const id = this.session;
    if (!id) return;
    try {
      const conversation = await getJSON(this.base, `/v1/sessions/${encodeURIComponent(id)}/messages`);
      for (const m of conversation.messages) {
        if (m.role === 'user') this.log.append(this.userMessage(m.content));
        else
          this.log.append(
            this.answerShell({
              answer: m.content,
              mode: m.mode,
              message_id: m.id,
              sources: m.sources || [],
              suggestions: m.suggestions || [],
              action: m.action,
              rating: m.rating,
              restored: true, // a reloaded question to confirm is not asked again
            }),
          );
      }
      if (conversation.messages.length) this.suggestions.hidden = true;
      if (conversation.messages.some((m) => m.mode === 'human' || m.mode === 'waiting')) this.listen();
    } catch (error) {
      if (error instanceof ApiError && error.kind === 'notfound') this.session = null;
      else this.log.append(this.errorMessage(error));
    }
  }

  userMessage(text) {
    return el('article', { class: 'fb-msg fb-user', 'aria-label': this.t.youSaid }, el('p', { text }));
  }

  errorMessage(error) {
    return el('p', { class: 'fb-error', role: 'alert', text: explain(error, this.config.contact, this.t) });
  }

  async ask(text, entryId = null) {
    const message = String(text).trim();
    if (!message || this.busy) return;
    this.busy = true;
    this.sendButton.disabled = true;
    this.suggestions.hidden = true;
    this.input.value = '';
    this.log.append(this.userMessage(message));
    const bubble = el('article', { class: 'fb-msg fb-bot', 'aria-label': this.t.answer });
    const live = el('p', { class: 'fb-thinking', text: this.t.thinking });
    bubble.append(live);
    this.log.append(bubble);
    this.log.setAttribute('aria-busy', 'true'); // announced once, when the answer is done
    this.scroll();
    const body = { message, session_id: this.session || undefined, entry_id: entryId || undefined, lang: this.lang };
    let streamed = '';
    try {
      await streamChat(this.base, body, (kind, data) => {
        if (kind === 'token') {
          if (!streamed) live.className = 'fb-streaming';
          streamed += data.text;
          live.textContent = streamed;
          this.scroll();
        } else if (kind === 'replace') {
          streamed = data.text;
          live.textContent = streamed;
        } else if (kind === 'done') {
          this.session = data.session_id;
          bubble.replaceWith(this.answerShell(data));
          if (data.mode === 'waiting') this.listen(); // a person holds the conversation
        }
      });
    } catch (error) {
      bubble.replaceWith(this.errorMessage(error));
      if (!this.input.value) this.input.value = message; // ready to send again
    } finally {
      this.log.setAttribute('aria-busy', 'false');
      this.busy = false;
      this.sendButton.disabled = false;
      this.scroll();
    }
  }

  answerShell(record) {
    const t = this.t;
    if (record.mode === 'human') return this.personMessage(record.answer);
    if (record.mode === 'waiting') return el('p', { class: 'fb-notice', text: record.answer });
    const article = el('article', { class: 'fb-msg fb-bot', 'aria-label': t.answer });
    // The answer's own language (the customer's, or English where the FAQ has no
    // translation), so screen readers pronounce it right.
    article.append(el('div', { class: 'fb-text', lang: record.lang || undefined }, renderMarkdown(record.answer)));
    const meta = el('div', { class: 'fb-meta' });
    if (record.mode && MODE_KEYS[record.mode])
      meta.append(el('span', { class: `fb-mode fb-mode-${record.mode}`, text: t[MODE_KEYS[record.mode]] }));
    for (const source of record.sources || []) {
      meta.append(
        el('button', {
          type: 'button',
          class: 'fb-chip',
          'aria-label': t.source({ n: source.n, title: source.title }),
          text: `[${source.n}] ${source.title}`,
          onclick: (e) => this.showEntry(source.id, e.currentTarget),
        }),
      );
    }
    article.append(meta);
    if (record.suggestions && record.suggestions.length) article.append(this.didYouMean(record.suggestions));
    if (record.mode === 'abstained' || record.action === 'handoff') {
      article.append(
        el('button', {
          type: 'button',
          class: 'fb-action fb-inline',
          text: t.askPerson,
          onclick: (e) => this.open('handoff', e.currentTarget),
        }),
      );
    }
    if (record.action === 'confirm_request' && !record.restored) article.append(this.confirmButtons());
    if (record.action === 'order_lookup' && this.config.order_lookup) {
      article.append(
        el('button', {
          type: 'button',
          class: 'fb-action fb-inline',
          text: t.orderStatus,
          onclick: (e) => this.open('order', e.currentTarget),
        }),
      );
    }
    // Small talk and offers of a form are not answers to rate.
    const rated = record.mode !== 'smalltalk' && record.mode !== 'handoff' && record.action !== 'confirm_request';
    if (record.message_id && rated) article.append(this.feedback(record.message_id, record.rating));
    return article;
  }

  // A person's reply: marked as such, plain text.
  personMessage(text) {
    return el(
      'article',
      { class: 'fb-msg fb-bot fb-human', 'aria-label': this.t.fromPerson },
      el('p', { class: 'fb-from', text: this.t.fromPerson }),
      el('div', { class: 'fb-text', text }),
      el('div', { class: 'fb-meta' }),
    );
  }

  // While a person may answer (after a handoff request, or while one holds the
  // conversation), their replies arrive on the event stream.
  listen() {
    if (this.live || !this.session) return;
    this.live = listenForPerson(this.base, this.session, {
      onMessage: (m) => {
        this.log.append(this.personMessage(m.text));
        this.scroll();
      },
      onReleased: () => {
        this.live = null;
        this.log.append(el('p', { class: 'fb-notice', text: this.t.backToBot }));
        this.scroll();
      },
    });
  }

  // Yes and No to a request about an order (cancel it, a return, a new address): the
  // answer is sent as the customer's message, in their language.
  confirmButtons() {
    const group = el('div', { class: 'fb-confirm', role: 'group', 'aria-label': this.t.yourAnswer });
    for (const word of [this.t.yes, this.t.no]) {
      group.append(
        el('button', {
          type: 'button',
          class: 'fb-action fb-inline',
          text: word,
          onclick: () => {
            group.remove();
            this.ask(word);
          },
        }),
      );
    }
    return group;
  }

  didYouMean(suggestions) {
    return el(
      'div',
      { class: 'fb-didyoumean', role: 'group', 'aria-label': this.t.didYouMeanGroup },
      el('p', { text: this.t.didYouMean }),
      ...suggestions.map((s) =>
        el('button', { type: 'button', class: 'fb-suggestion', text: s.title, onclick: () => this.ask(s.title, s.id) }),
      ),
    );
  }

  feedback(messageId, given = null) {
    const t = this.t;
    const thanks = el('p', { class: 'fb-thanks', role: 'status' });
    const commentId = uid('comment');
    const comment = el('textarea', { id: commentId, rows: '2', maxlength: '2000' });
    const form = el(
      'form',
      {
        class: 'fb-comment',
        hidden: true,
        onsubmit: (e) => {
          e.preventDefault();
          rate('down', comment.value.trim() || null);
        },
      },
      el('label', { for: commentId, text: t.whatMissing }),
      comment,
      el('button', { type: 'submit', class: 'fb-send', text: t.sendFeedback }),
    );
    const up = el('button', {
      type: 'button',
      class: 'fb-rate',
      'aria-label': t.helped,
      'aria-pressed': 'false',
      text: t.yes,
      onclick: () => rate('up', null),
    });
    const down = el('button', {
      type: 'button',
      class: 'fb-rate',
      'aria-label': t.notHelped,
      'aria-pressed': 'false',
      text: t.no,
      onclick: () => {
        down.setAttribute('aria-pressed', 'true');
        up.setAttribute('aria-pressed', 'false');
        form.hidden = false;
        comment.focus();
      },
    });
    const rate = async (rating, text) => {
      (rating === 'up' ? up : down).setAttribute('aria-pressed', 'true');
      try {
        await postJSON(this.base, '/v1/feedback', { message_id: messageId, rating, comment: text || undefined });
        form.hidden = true;
        thanks.textContent = t.thanks;
      } catch (error) {
        thanks.textContent = explain(error, this.config.contact, t);
      }
    };
    if (given === 'up' || given === 'down') (given === 'up' ? up : down).setAttribute('aria-pressed', 'true');
    return el(
      'div',
      { class: 'fb-feedback' },
      el('span', { class: 'fb-ask', text: t.didThisHelp }),
      up,
      down,
      form,
      thanks,
    );
  }

  scroll() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  // -- dialogs (dialogs.js builds them; the view opens and closes them) -------------------

  open(name, opener) {
    const d = this.dialogs[name];
    if (!d) return;
    this.opener = opener || null;
    d.reset?.();
    d.node.showModal();
    d.focus?.();
  }

  close(name) {
    this.dialogs[name].node.close();
  }

  showEntry(id, opener) {
    return showEntry(this, id, opener);
  }
}
