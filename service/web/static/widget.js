// The embeddable widget. A shop adds one tag:
//   <script type="module" src="https://bot.example/widget.js" data-faqbot-url="https://bot.example"></script>
// and gets a launcher button that opens the chat in a panel. Everything lives in a shadow
// root with its own stylesheets, so the shop's CSS cannot reach in and ours cannot leak out.
import { ChatView } from './static/chat-view.js';
import { loadLabels, pickLanguage } from './static/i18n.js';

const assets = new URL('./', import.meta.url);
const tag = document.querySelector('script[data-faqbot-url]');
const api = ((tag && tag.dataset.faqbotUrl) || assets.href).replace(/\/+$/, '');

class FaqbotWidget extends HTMLElement {
  async connectedCallback() {
    if (this.shadowRoot) return;
    const root = this.attachShadow({ mode: 'open' });
    const t = await loadLabels(pickLanguage(navigator.languages || [navigator.language]));
    for (const sheet of ['theme.css', 'static/chat.css', 'static/widget.css']) {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = new URL(sheet, assets).href;
      root.append(link);
    }
    this.launcher = document.createElement('button');
    this.launcher.type = 'button';
    this.launcher.className = 'fbw-launcher';
    this.launcher.textContent = t.launcher;
    this.launcher.setAttribute('aria-expanded', 'false');
    this.launcher.setAttribute('aria-controls', 'fbw-panel');
    this.launcher.addEventListener('click', () => this.toggle());
    this.panel = document.createElement('div');
    this.panel.id = 'fbw-panel';
    this.panel.className = 'fbw-panel';
    this.panel.setAttribute('role', 'region');
    this.panel.setAttribute('aria-label', t.chatRegion);
    this.panel.hidden = true;
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'fbw-close';
    close.setAttribute('aria-label', t.closeChat);
    close.textContent = '×';
    close.addEventListener('click', () => this.toggle(false));
    this.body = document.createElement('div');
    this.body.className = 'fb fb-widget';
    this.panel.append(close, this.body);
    this.panel.addEventListener('keydown', (e) => {
      // Escape closes an open dialog first (the browser does that); else the panel.
      if (e.key === 'Escape' && !this.body.querySelector('dialog[open]')) this.toggle(false);
    });
    root.append(this.launcher, this.panel);
    this.view = new ChatView(this.body, { base: api, heading: 'h2' });
  }

  async toggle(open = this.panel.hidden) {
    this.panel.hidden = !open;
    this.launcher.setAttribute('aria-expanded', String(open));
    if (!open) {
      this.launcher.focus();
      return;
    }
    if (!this.started) {
      this.started = true;
      await this.view.start();
    }
    this.view.input?.focus();
  }
}

if (!customElements.get('faqbot-widget')) customElements.define('faqbot-widget', FaqbotWidget);
if (!document.querySelector('faqbot-widget')) document.body.append(document.createElement('faqbot-widget'));
