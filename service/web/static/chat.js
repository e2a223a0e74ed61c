// The full-page chat at /: takes over the server-rendered page (which works on its own
// without JavaScript) and streams answers.
import { ChatView } from './chat-view.js';

const root = document.getElementById('faqbot');
if (root) new ChatView(root, { base: '' }).start();
