// The service's HTTP API, for the chat page and the widget. Errors become ApiError with
// a kind the view can explain: busy (429), unavailable (503), invalid (413/422),
// notfound (404), denied (403), network (no connection), server (anything else).

export class ApiError extends Error {
  constructor(kind, message, { status = 0, retryAfter = 0, detail = null } = {}) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.retryAfter = retryAfter;
    this.detail = detail;
  }
}

const KINDS = { 403: 'denied', 404: 'notfound', 413: 'invalid', 422: 'invalid', 429: 'busy', 503: 'unavailable' };

function detailText(detail) {
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail) && detail.length) return String(detail[0].msg || 'Invalid input');
  return '';
}

async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    /* not JSON: keep the status only */
  }
  const retryAfter = Number(response.headers.get('Retry-After')) || 0;
  const kind = KINDS[response.status] || 'server';
  return new ApiError(kind, detailText(body && body.detail) || response.statusText, {
    status: response.status,
    retryAfter,
    detail: body && body.detail,
  });
}

async function send(url, init) {
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError('network', 'No connection');
  }
  if (!response.ok) throw await failure(response);
  return response;
}

// A JSON request: GET without a body, others with one (and any extra headers, such as
// the console's CSRF token). An empty reply (204) is null.
export async function requestJSON(base, path, { method = 'GET', body, headers = {} } = {}) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await send(base + path, init);
  if (response.status === 204) return null;
  return response.json();
}

// Server-rendered markup (the chat's shell for the widget), parsed, never run: the
// nodes of its body, for the caller to adopt.
export async function getMarkup(base, path) {
  const response = await send(base + path, { credentials: 'same-origin', headers: { accept: 'text/html' } });
  const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
  return [...doc.body.childNodes];
}

export function getJSON(base, path) {
  return requestJSON(base, path);
}

export function postJSON(base, path, body) {
  return requestJSON(base, path, { method: 'POST', body });
}

// POST /v1/chat/stream, read with the body reader (EventSource can only GET). Calls
// onEvent(kind, data) for sources, token, replace and done; an error event becomes an
// ApiError like an HTTP status would.
export async function streamChat(base, body, onEvent, signal) {
  const response = await send(base + '/v1/chat/stream', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
    signal,
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      throw new ApiError('network', 'The connection was lost');
    }
    if (chunk.done) break;
    buffer += decoder.decode(chunk.value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      dispatch(buffer.slice(0, end), onEvent);
      buffer = buffer.slice(end + 2);
    }
  }
}

function dispatch(block, onEvent) {
  let kind = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) kind = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  const payload = JSON.parse(data.join('\n') || '{}');
  if (kind === 'error') {
    const kindOf = KINDS[payload.status] || 'server';
    throw new ApiError(kindOf, payload.detail || '', {
      status: payload.status,
      retryAfter: payload.retry_after || 0,
    });
  }
  onEvent(kind, payload);
}
