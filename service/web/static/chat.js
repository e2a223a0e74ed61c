// The full-page chat at /: takes over the server-rendered page (which works on its own
// without JavaScript) and streams answers.
import { ChatView } from './chat-view.js';

const root = document.getElementById('faqbot');
if (root) {
  const view = new ChatView(root, { base: '' });
  document.documentElement.lang = view.lang; // the page's texts are now in this language
  view.start();
}
