// The editors' and ops' console: log in, then the gap inbox. Built with DOM calls only:
// customers' questions and comments are text nodes, never markup. Every change sends the
// session's CSRF token; the session itself is an HttpOnly cookie this script never sees.

import { agentInbox } from './admin-agents.js';
import { orderRequestsPanel } from './admin-requests.js';
import { requestJSON } from './api.js';
import { el } from './dom.js';

const API = '/admin/api';
let csrf = '';

// The console's API through the same requests as the chat's (api.js): errors are
// ApiError with the server's detail as their message; changes carry the CSRF token.
function call(method, path, body) {
  const headers = method === 'GET' ? {} : { 'x-csrf-token': csrf };
  return requestJSON(API, path, { method, body, headers });
}

const root = document.getElementById('console');
const status = el('p', { class: 'adm-status', role: 'status' });

function say(text, isError = false) {
  status.textContent = text;
  status.className = isError ? 'adm-status adm-error' : 'adm-status';
}

function showLogin(message = '') {
  const name = el('input', { id: 'adm-name', name: 'name', autocomplete: 'username', required: true, maxlength: '64' });
  const password = el('input', {
    id: 'adm-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const form = el(
    'form',
    {
      class: 'adm-login',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const me = await call('POST', '/login', { name: name.value, password: password.value });
          csrf = me.csrf;
          await showFor(me);
        } catch (error) {
          say(error.message, true);
          password.value = '';
          password.focus();
        }
      },
    },
    el('label', { for: 'adm-name', text: 'Name' }),
    name,
    el('label', { for: 'adm-password', text: 'Password' }),
    password,
    el('button', { type: 'submit', text: 'Log in' }),
  );
  root.replaceChildren(el('h1', { text: 'faqbot console' }), form, status);
  say(message, Boolean(message));
  name.focus();
}

function clusterCard(cluster, entries) {
  const title = `${cluster.size} question${cluster.size === 1 ? '' : 's'}: “${cluster.examples[0]}”`;
  const kinds = Object.entries(cluster.kinds)
    .map(([k, n]) => `${n} ${k.replace('_', ' ')}`)
    .join(', ');
  const considered = cluster.entries.map((e) => `${e.id} (${e.count})`).join(', ') || 'none';
  // the live version's pick for these questions alone; what was considered when they
  // were asked may name an entry since renamed. No pick: the editor chooses, rather than
  // the list's first entry standing in unnoticed.
  const offered = entries.some((e) => e.id === cluster.suggested) ? cluster.suggested : '';
  const select = el(
    'select',
    { 'aria-label': `Entry for “${cluster.examples[0]}”` },
    el('option', { value: '', text: 'Choose an entry…' }),
    ...entries.map((e) => el('option', { value: e.id, text: `${e.title} (${e.id})` })),
  );
  select.value = offered;
  // body() is read at the click: the entry chosen then
  const act = (action, body, done) => async () => {
    if (action === 'attach' && !select.value) {
      say('Choose the entry these questions belong to first.', true);
      select.focus();
      return;
    }
    try {
      const result = await call('POST', `/inbox/${action}`, { ...body(), ids: cluster.ids });
      await refresh();
      say(done(result)); // after the list changed: the status describes what is shown
    } catch (error) {
      say(error.message, true);
    }
  };
  return el(
    'section',
    { class: 'adm-cluster', 'aria-label': title },
    el('h3', { text: title }),
    el('p', {
      class: 'adm-meta',
      text: `${kinds}; last ${new Date(cluster.last_at).toLocaleString()}; retrieval considered: ${considered}`,
    }),
    el('ul', {}, ...cluster.questions.slice(0, 8).map((q) => el('li', { text: q }))),
    ...cluster.comments.map((c) => el('blockquote', { text: c })),
    el(
      'div',
      { class: 'adm-actions' },
      el('label', {}, 'Entry ', select),
      el('button', {
        type: 'button',
        text: 'Add as phrasings',
        onclick: act(
          'attach',
          () => ({ entry_id: select.value, questions: cluster.questions }),
          (r) => `Added to ${r.path}. Preview, then Publish, to put it live.`,
        ),
      }),
      el('button', {
        type: 'button',
        class: 'adm-quiet',
        text: "Won't answer",
        onclick: act(
          'decline',
          () => ({ questions: cluster.questions }),
          (r) => `Added to ${r.path} as questions to decline. Preview, then Publish, to put it live.`,
        ),
      }),
      el('button', {
        type: 'button',
        class: 'adm-quiet',
        text: 'Dismiss',
        onclick: act(
          'dismiss',
          () => ({}),
          (r) => `Dismissed ${r.dismissed}.`,
        ),
      }),
    ),
    draftForm(cluster, act),
  );
}

// A new entry from a cluster: the editor writes the answer; the questions become its phrasings.
function draftForm(cluster, act) {
  const n = ++drafts;
  const id = el('input', {
    id: `adm-draft-id-${n}`,
    required: true,
    maxlength: '128',
    pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]*',
  });
  const question = el('input', {
    id: `adm-draft-q-${n}`,
    required: true,
    maxlength: '500',
    value: cluster.examples[0],
  });
  const answer = el('textarea', { id: `adm-draft-a-${n}`, required: true, rows: '4', maxlength: '20000' });
  // what a person answered these questions (a closed handoff): the draft to start from
  if (cluster.drafts && cluster.drafts.length) answer.value = cluster.drafts[0];
  const send = act(
    'draft',
    () => ({ entry_id: id.value, question: question.value, answer: answer.value, questions: cluster.questions }),
    (r) => `Drafted in ${r.path}. Preview, then Publish, to put it live.`,
  );
  return el(
    'details',
    {},
    el('summary', { text: 'Draft a new entry' }),
    el(
      'form',
      {
        class: 'adm-login',
        onsubmit: (e) => {
          e.preventDefault();
          send();
        },
      },
      el('label', { for: id.id, text: 'Id' }),
      id,
      el('label', { for: question.id, text: 'Question' }),
      question,
      el('label', { for: answer.id, text: 'Answer (markdown)' }),
      answer,
      el('button', { type: 'submit', text: 'Save draft' }),
    ),
  );
}

let drafts = 0;

let current = null;

// Why this answer: the trace of a turn (or of a typed question) as a table of candidates.
function traceView(trace) {
  if (!trace) return el('p', { text: 'No retrieval for this turn (an order answer or a cached one).' });
  const head = el(
    'tr',
    {},
    ...['entry', 'score', 'question sim.', 'chunk sim.', 'classifier', 'lexical'].map((h) =>
      el('th', { scope: 'col', text: h }),
    ),
  );
  const rows = trace.candidates.map((c) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row', text: `${c.title} (${c.id})` }),
      ...[c.score, c.question_similarity, c.chunk_similarity, c.classifier, c.lexical].map((v) =>
        el('td', { text: Number(v).toFixed(3) }),
      ),
    ),
  );
  const parts = [
    el('p', {
      text: `${trace.path} path, language ${trace.lang}, version ${trace.version}: confidence ${trace.confidence} against the threshold ${trace.threshold} (${trace.abstain ? 'declined' : 'answered'}); lead ${trace.margin}`,
    }),
    el('table', { class: 'adm-trace' }, el('thead', {}, head), el('tbody', {}, ...rows)),
  ];
  if (trace.prompt) {
    parts.push(
      el('p', {
        text: `Prompt: ${trace.prompt.prefix_tokens} fixed + ${trace.prompt.variable_tokens} variable tokens`,
      }),
    );
    parts.push(
      el('pre', {
        class: 'adm-prompt',
        text: trace.prompt.messages.map((m) => `[${m.role}] ${m.content}`).join('\n\n'),
      }),
    );
  }
  return el('div', {}, ...parts);
}

function thresholdsPanel(me) {
  const out = el('div', { 'aria-live': 'polite' });
  const field = (id, label, max) => {
    const input = el('input', { id, type: 'number', step: '0.01', min: '0', max, required: true });
    return [input, el('label', { for: id, text: label }), input];
  };
  const [abstain, ...a] = field('adm-abstain', 'Decline below', '1');
  const [canonical, ...c] = field('adm-canonical', 'Verbatim from', '1');
  const [margin, ...m] = field('adm-margin', 'with a lead of', '5');
  const values = () => ({
    abstain_threshold: Number(abstain.value),
    canonical_threshold: Number(canonical.value),
    canonical_margin: Number(margin.value),
  });
  const pct = (x) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  const simulate = async () => {
    try {
      const r = await call('POST', '/thresholds/simulate', values());
      const rows = Object.entries(r.changes).map(([k, n]) =>
        el('li', {}, `${n} × ${k}: `, ...r.examples[k].map((q) => el('q', { text: q })).flatMap((x) => [x, ' '])),
      );
      out.replaceChildren(
        el('p', {
          text: `${r.questions} recent questions; ${rows.length ? 'answers that would change:' : 'no answer would change.'}`,
        }),
        el('ul', {}, ...rows),
      );
      if (r.gate)
        out.append(
          el('p', {
            text: `Gate questions: in-scope accuracy ${pct(r.gate.current.in_scope_accuracy)} → ${pct(r.gate.proposed.in_scope_accuracy)}, out-of-scope recall ${pct(r.gate.current.oos_recall)} → ${pct(r.gate.proposed.oos_recall)}`,
          }),
        );
    } catch (error) {
      say(error.message, true);
    }
  };
  const save = async () => {
    try {
      await call('POST', '/thresholds', values());
      say('Saved: every replica applies them within a second.');
    } catch (error) {
      say(error.message, true);
    }
  };
  // the live version's values: loaded now, and again after every publish or rollback
  // (a new version brings its own calibrated thresholds)
  const load = () =>
    call('GET', '/thresholds')
      .then((t) => {
        abstain.value = t.abstain_threshold.toFixed(3);
        canonical.value = t.canonical_threshold.toFixed(3);
        margin.value = t.canonical_margin.toFixed(2);
      })
      .catch((error) => say(error.message, true));
  load();
  document.addEventListener('adm-published', load);
  return el(
    'section',
    { 'aria-labelledby': 'adm-thresholds' },
    el('h2', { id: 'adm-thresholds', text: 'Thresholds' }),
    el(
      'div',
      { class: 'adm-actions' },
      ...a,
      ...c,
      ...m,
      el('button', { type: 'button', text: 'Simulate', onclick: simulate }),
      me.role === 'ops' ? el('button', { type: 'button', class: 'adm-quiet', text: 'Save', onclick: save }) : null,
    ),
    out,
  );
}

function whyThisAnswer() {
  const results = el('div', { 'aria-live': 'polite' });
  const text = el('input', { id: 'adm-q', type: 'search', maxlength: '200' });
  const mode = el(
    'select',
    { id: 'adm-mode' },
    ...['', 'canonical', 'extractive', 'generated', 'fallback', 'abstained', 'order'].map((m) =>
      el('option', { value: m, text: m || 'any mode' }),
    ),
  );
  const rating = el(
    'select',
    { id: 'adm-rating' },
    ...[
      ['', 'any rating'],
      ['down', 'thumbs down'],
      ['up', 'thumbs up'],
    ].map(([v, t]) => el('option', { value: v, text: t })),
  );
  const open = async (id) => {
    const conv = await call('GET', `/conversations/${encodeURIComponent(id)}`);
    results.replaceChildren(
      ...conv.turns.map((t) =>
        el(
          'article',
          { class: 'adm-cluster' },
          el('h3', { text: `“${t.question || ''}”` }),
          el('p', {
            class: 'adm-meta',
            text: `${t.mode}${t.rating ? `, rated ${t.rating}` : ''}, ${new Date(t.at).toLocaleString()}`,
          }),
          el('blockquote', { text: t.answer }),
          traceView(t.trace),
        ),
      ),
    );
  };
  const search = el(
    'form',
    {
      class: 'adm-actions',
      onsubmit: async (e) => {
        e.preventDefault();
        const params = new URLSearchParams(
          Object.entries({ q: text.value, mode: mode.value, rating: rating.value }).filter(([, v]) => v),
        );
        try {
          const found = await call('GET', `/conversations?${params}`);
          results.replaceChildren(
            found.conversations.length
              ? el(
                  'ul',
                  {},
                  ...found.conversations.map((c) =>
                    el(
                      'li',
                      {},
                      el('button', {
                        type: 'button',
                        class: 'adm-quiet',
                        text: `${new Date(c.last_at).toLocaleString()}: “${c.first || ''}”`,
                        onclick: () => open(c.session_id),
                      }),
                    ),
                  ),
                )
              : el('p', { text: 'No conversation matches.' }),
          );
        } catch (error) {
          say(error.message, true);
        }
      },
    },
    el('label', { for: 'adm-q', text: 'Text' }),
    text,
    el('label', { for: 'adm-mode', text: 'Mode' }),
    mode,
    el('label', { for: 'adm-rating', text: 'Rating' }),
    rating,
    el('button', { type: 'submit', text: 'Find conversations' }),
  );
  const typed = el('input', { id: 'adm-ask', maxlength: '2000' });
  const ask = el(
    'form',
    {
      class: 'adm-actions',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const r = await call('POST', '/ask', { question: typed.value });
          results.replaceChildren(el('h3', { text: `“${r.question}”` }), traceView(r.trace));
        } catch (error) {
          say(error.message, true);
        }
      },
    },
    el('label', { for: 'adm-ask', text: 'Try a question' }),
    typed,
    el('button', { type: 'submit', text: 'Why' }),
  );
  return el(
    'section',
    { 'aria-labelledby': 'adm-why' },
    el('h2', { id: 'adm-why', text: 'Why this answer' }),
    search,
    ask,
    results,
  );
}

// Publishing: what the next version would change, then publish or roll back, with the
// ingest's own output shown as it comes.
// The events of an NDJSON response (the console's long runs), as they arrive.
async function* ndjson(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let rest = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    rest += decoder.decode(value, { stream: true });
    const lines = rest.split('\n');
    rest = lines.pop();
    for (const line of lines.filter(Boolean)) yield JSON.parse(line);
  }
}

const post = (path) =>
  fetch(API + path, { method: 'POST', credentials: 'same-origin', headers: { 'x-csrf-token': csrf } });

function publishing() {
  const out = el('ol', { class: 'adm-log', 'aria-label': 'Ingest output' });
  const show = (line) => out.append(el('li', { text: line }));
  const streamed = (path) => async () => {
    out.replaceChildren();
    confirm.hidden = true;
    const response = await post(path);
    const action = path.slice(1).split('?')[0];
    if (!response.ok) {
      say(`${action} refused (${response.status})`, true);
      return;
    }
    let regressed = false;
    for await (const event of ndjson(response)) {
      if ('line' in event) {
        show(event.line);
        // the gate refused because questions answered right now would go wrong
        if (event.line.includes('--accept-regressions')) regressed = true;
      } else
        say(
          event.exit === 0 ? `${action}: done.` : `${action} failed (exit ${event.exit}): see the output.`,
          event.exit !== 0,
        );
    }
    if (regressed) confirm.hidden = false;
    document.dispatchEvent(new Event('adm-published'));
    await refresh();
  };
  const confirm = el('button', {
    type: 'button',
    class: 'adm-warn',
    hidden: true,
    text: 'Publish anyway, with the regressions',
    onclick: streamed('/publish?accept_regressions=true'),
  });
  // The build's progress shows in the status line while it runs (a large FAQ takes a while).
  const replay = async () => {
    const response = await post('/replay?stream=true');
    if (!response.ok) throw new Error(`replay refused (${response.status})`);
    let result = null;
    const lines = [];
    for await (const event of ndjson(response)) {
      if ('result' in event) result = event.result;
      else if ('line' in event) {
        lines.push(event.line);
        say(`Replaying… ${event.line}`);
      } else if (event.exit !== 0 || !result) throw new Error(lines.slice(-3).join(' ') || 'the replay failed');
    }
    return result;
  };
  const preview = async () => {
    out.replaceChildren();
    say('Replaying…');
    try {
      const r = await replay();
      const gate = r.gate || { regressions: [], improvements: [] };
      const name = (entry) => entry || '(declined)';
      say(
        `Replayed ${r.questions} questions: ${gate.regressions.length} regression(s) among the test questions, ${r.counts['now answered']} now answered, ${r.counts['now declined']} now declined, ${r.counts['another entry']} from another entry.`,
        gate.regressions.length > 0,
      );
      if (r.rollback_notice) out.append(el('li', { class: 'adm-regression', text: `Warning: ${r.rollback_notice}` }));
      for (const v of gate.regressions)
        out.append(
          el('li', {
            class: 'adm-regression',
            text: `Regression: “${v.question}” ${name(v.before)} → ${name(v.after)} (expected ${name(v.expected)})`,
          }),
        );
      for (const v of gate.improvements) show(`Improvement: “${v.question}” ${name(v.before)} → ${name(v.after)}`);
      for (const c of r.changes.slice(0, 50))
        show(`${c.kind}: “${c.question}” ${c.before || '(declined)'} → ${c.after || '(declined)'}`);
      if (!r.changes.length)
        show(
          r.changed === false
            ? 'Nothing changed since the live version.'
            : 'No question would be answered differently.',
        );
    } catch (error) {
      say(error.message, true);
    }
  };
  return el(
    'section',
    { 'aria-labelledby': 'adm-publish' },
    el('h2', { id: 'adm-publish', text: 'Publish' }),
    el(
      'div',
      { class: 'adm-actions' },
      el('button', { type: 'button', text: 'Preview changes', onclick: preview }),
      el('button', { type: 'button', text: 'Publish', onclick: streamed('/publish') }),
      el('button', { type: 'button', class: 'adm-quiet', text: 'Roll back', onclick: streamed('/rollback') }),
      confirm,
    ),
    out,
  );
}

async function refresh() {
  const [inbox, entries] = await Promise.all([call('GET', '/inbox'), call('GET', '/entries')]);
  const list = el('div', { id: 'adm-inbox' });
  if (!inbox.clusters.length)
    list.append(el('p', { text: 'Nothing in the inbox: every recent question was answered.' }));
  for (const cluster of inbox.clusters) list.append(clusterCard(cluster, entries.entries));
  current.inbox.replaceWith(list);
  current.inbox = list;
  const n = inbox.clusters.length;
  current.count.textContent = `${inbox.questions} question${inbox.questions === 1 ? '' : 's'} in ${n} cluster${n === 1 ? '' : 's'}`;
}

function logout() {
  return el('button', {
    type: 'button',
    class: 'adm-quiet',
    text: 'Log out',
    onclick: async () => {
      try {
        await call('POST', '/logout');
      } finally {
        csrf = '';
        showLogin();
      }
    },
  });
}

async function showInbox(me) {
  const header = el(
    'header',
    {},
    el('h1', { text: 'faqbot console' }),
    el('p', { text: `${me.user} (${me.role})` }),
    el(
      'p',
      {},
      el('a', { href: `${API}/export/unanswered.csv`, text: 'Unanswered questions (CSV)' }),
      ' · ',
      el('a', { href: `${API}/export/feedback.csv`, text: 'Feedback (CSV)' }),
    ),
    logout(),
  );
  current = { inbox: el('div'), count: el('p') };
  const charts = el(
    'section',
    { 'aria-labelledby': 'adm-charts' },
    el('h2', { id: 'adm-charts', text: 'The last 30 days' }),
    el('img', {
      src: `${API}/charts.png?days=30`,
      class: 'adm-chart',
      alt: 'Charts of the last 30 days: answers per day by mode, the shares declined and rated down, deflection, and answer times (p50 and p95). The same figures are at /admin/api/analytics.',
    }),
  );
  root.replaceChildren(
    header,
    status,
    publishing(),
    el('h2', { text: 'Gap inbox' }),
    current.count,
    current.inbox,
    whyThisAnswer(),
    thresholdsPanel(me),
    orderRequestsPanel(call),
    ...(me.role === 'ops' ? [agentInbox(call, me)] : []),
    charts,
  );
  say('');
  await refresh();
}

async function showFor(me) {
  if (me.role === 'agent') showAgents(me);
  else await showInbox(me);
}

// Agents see only the customers who asked for a person.
function showAgents(me) {
  root.replaceChildren(
    el('header', {}, el('h1', { text: 'faqbot console' }), el('p', { text: `${me.user} (${me.role})` }), logout()),
    agentInbox(call, me),
  );
}

async function start() {
  try {
    const me = await call('GET', '/me');
    csrf = me.csrf;
    await showFor(me);
  } catch (error) {
    showLogin(error.status === 401 ? '' : error.message);
  }
}

start();
