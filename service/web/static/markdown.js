// The small markdown of FAQ answers, built as DOM nodes (never innerHTML): paragraphs,
// **bold**, lists, and links whose address is http(s) or mailto. Anything else is text.
// service/web/markdown.py renders the same rules on the server.

const LINK = /\[([^\]\n]{1,200})\]\(([^)\s]{1,500})\)/g;
const BOLD = /\*\*([^*\n]{1,500})\*\*/g;
const ITEM = /^\s*(?:[-*]|\d+[.)])\s+(.*)$/;
const SAFE = /^(https?:\/\/|mailto:)/i;

function appendBold(parent, text) {
  let pos = 0;
  for (const m of text.matchAll(BOLD)) {
    parent.append(text.slice(pos, m.index));
    const strong = document.createElement('strong');
    strong.textContent = m[1];
    parent.append(strong);
    pos = m.index + m[0].length;
  }
  parent.append(text.slice(pos));
}

function appendInline(parent, text) {
  let pos = 0;
  for (const m of text.matchAll(LINK)) {
    appendBold(parent, text.slice(pos, m.index));
    const [, label, url] = m;
    if (SAFE.test(url)) {
      const a = document.createElement('a');
      a.href = url;
      a.rel = 'noopener noreferrer';
      a.target = '_blank';
      appendBold(a, label);
      parent.append(a);
    } else {
      appendBold(parent, label); // an unsafe link keeps its words only
    }
    pos = m.index + m[0].length;
  }
  appendBold(parent, text.slice(pos));
}

export function renderMarkdown(text) {
  const fragment = document.createDocumentFragment();
  for (const block of String(text)
    .trim()
    .split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((line) => line.trim());
    if (!lines.length) continue;
    if (lines.every((line) => ITEM.test(line))) {
      const list = document.createElement(/^\s*\d/.test(lines[0]) ? 'ol' : 'ul');
      for (const line of lines) {
        const li = document.createElement('li');
        appendInline(li, line.match(ITEM)[1]);
        list.append(li);
      }
      fragment.append(list);
    } else {
      const p = document.createElement('p');
      lines.forEach((line, i) => {
        if (i) p.append(document.createElement('br'));
        appendInline(p, line.trim());
      });
      fragment.append(p);
    }
  }
  return fragment;
}
