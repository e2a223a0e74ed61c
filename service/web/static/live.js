// A person's replies to this conversation (GET /v1/sessions/<id>/events): EventSource
// reconnects by itself and sends Last-Event-ID, so a reply sent while the connection
// dropped still arrives. Replies are text, never markup.

export function listenForPerson(base, session, { onMessage, onReleased }) {
  const source = new EventSource(`${base}/v1/sessions/${encodeURIComponent(session)}/events`);
  source.addEventListener('message', (e) => onMessage(JSON.parse(e.data)));
  source.addEventListener('released', (e) => {
    source.close();
    onReleased(JSON.parse(e.data));
  });
  return source;
}
