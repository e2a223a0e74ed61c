// The page's own texts in the languages the chat answers in, from the same catalogues
// the server reads (texts/<lang>.json, their "page" section): each text is written once.
// The page takes the first of the browser's languages it has (navigator.languages);
// answers follow the language each message is written in, which the server detects.

import en from './texts/en.json' with { type: 'json' };

export const SUPPORTED = ['en', 'de', 'fr', 'es', 'it', 'nl'];

export function pickLanguage(preferred = [], supported = SUPPORTED) {
  for (const tag of preferred) {
    const primary = String(tag || '')
      .toLowerCase()
      .split('-')[0];
    if (supported.includes(primary)) return primary;
  }
  return 'en';
}

// A text with named placeholders ("in {seconds} seconds") becomes a function of them.
function labels(page) {
  return Object.fromEntries(
    Object.entries(page).map(([key, text]) => [
      key,
      typeof text === 'string' && /\{\w+\}/.test(text)
        ? (values = {}) => text.replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all))
        : text,
    ]),
  );
}

const loaded = new Map([['en', labels(en.page)]]);

// Only the customer's language is fetched; English is always there.
export async function loadLabels(lang) {
  if (!SUPPORTED.includes(lang)) return loaded.get('en');
  if (!loaded.has(lang)) {
    try {
      const catalogue = await import(`./texts/${lang}.json`, { with: { type: 'json' } });
      loaded.set(lang, labels(catalogue.default.page));
    } catch {
      return loaded.get('en'); // offline or blocked: English rather than nothing
    }
  }
  return loaded.get(lang);
}

// The labels of a language already loaded, else English.
export function labelsFor(lang) {
  return loaded.get(lang) || loaded.get('en');
}
