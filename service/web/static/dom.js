// Building DOM nodes without markup: text goes in as text nodes (`text`), handlers as
// listeners (`on...`), everything else as attributes. Shared by the chat and the console.

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

let ids = 0;
// A document-unique id: the page and a widget may show the chat side by side
export const uid = (name) => `fb-${name}-${++ids}`;
