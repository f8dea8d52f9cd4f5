// Customer chat widget: /ws/chat (subprotocol ctx.chat.v1). Start with a
// name and language, then exchange messages with the agent who accepts the
// chat. Every message goes into the page as text, never as HTML.
// The chat survives a reload or a dropped connection: `started` gives a key,
// kept in sessionStorage, and the widget sends {"type":"resume"} to get the
// chat and its history back. "End chat" sends {"type":"end"}.
// "Call me back" asks for a call at a phone number: in a chat, over the
// socket ({"type":"callback"}: the agent who calls sees the chat), else with
// POST /api/callbacks. The server checks the number and says what is wrong.
'use strict';

const $ = (id) => document.getElementById(id);
const startForm = $('start'), sendForm = $('send'), chatBox = $('chat'), log = $('log');
const statusEl = $('status'), text = $('text'), leaveBtn = $('leave');
let ws = null;
let myName = '';
let closed = false;
let backoff = 500;
const SAVED = 'ctx.chat';

function saved() {
  try { return JSON.parse(sessionStorage.getItem(SAVED) || 'null'); } catch (e) { return null; }
}

function el(tag, cls, txt) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (txt !== undefined && txt !== null) e.textContent = String(txt);
  return e;
}

function setStatus(s, cls) {
  statusEl.textContent = s;
  statusEl.className = 'status ' + (cls || '');
}

function system(s) {
  log.append(el('li', 'sys', s));
  log.scrollTop = log.scrollHeight;
}

function message(m) {
  const mine = m.from === 'customer';
  const li = el('li', 'msg ' + (mine ? 'me' : 'agent'));
  li.append(el('span', 'name', mine ? 'You' : (m.name || 'Agent')));
  li.append(el('div', 'body', m.text || ''));
  log.append(li);
  log.scrollTop = log.scrollHeight;
}

function end(why) {
  closed = true;
  sessionStorage.removeItem(SAVED);
  text.disabled = true;
  sendForm.querySelector('button').disabled = true;
  leaveBtn.hidden = true;
  setStatus('closed', 'closed');
  system(why);
}

function sendMessage(t) {
  if (!t || closed || !ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify({ type: 'message', text: t }));
  message({ from: 'customer', name: myName, text: t });
  return true;
}

function connect(hello, first) {
  setStatus('connecting…');
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  ws = new WebSocket(proto + '//' + location.host + '/ws/chat', 'ctx.chat.v1');
  ws.onopen = () => { backoff = 500; ws.send(JSON.stringify(hello)); };
  ws.onmessage = (ev) => {
    let f;
    try { f = JSON.parse(ev.data); } catch (e) { return; }
    if (!f) return;
    switch (f.type) {
      case 'started':
        sessionStorage.setItem(SAVED, JSON.stringify({ task: f.task, key: f.key, name: myName }));
        setStatus('waiting for an agent…', 'waiting');
        // the chat reaches the agents with the customer's first message
        if (first) {
          system('Thanks, ' + myName + '. An agent will be with you shortly.');
          sendMessage(first);
        } else {
          system('Thanks, ' + myName + '. Tell us how we can help, and an agent will be with you shortly.');
        }
        text.focus();
        break;
      case 'resumed':
        log.replaceChildren();
        for (const m of f.history || []) message(m);
        if (f.state === 'assigned') setStatus('talking to an agent', 'live');
        else setStatus('waiting for an agent…', 'waiting');
        system('Reconnected.');
        break;
      case 'agent_joined':
        setStatus('talking to ' + (f.name || 'an agent'), 'live');
        system((f.name || 'An agent') + ' joined the chat.');
        break;
      case 'message':
        if (f.message) message(f.message);
        break;
      case 'agent_left':
        setStatus('waiting for an agent…', 'waiting');
        system('The agent was disconnected; another agent will take over.');
        break;
      case 'typing':
        $('typing').textContent = (f.name || 'The agent') + ' is typing…';
        $('typing').hidden = false;
        setTimeout(() => { $('typing').hidden = true; }, 4000);
        break;
      case 'closed':
        end('The agent closed the chat. Thank you!');
        break;
      case 'ended':
        break;
      case 'callback_queued':
        callbackDone(f.phone, f.not_before);
        break;
      case 'error':
        if (f.code === 'no_chat') {       // the saved chat is gone: start afresh
          sessionStorage.removeItem(SAVED);
          closed = true;
          ws.close();
          chatBox.hidden = true;
          startForm.hidden = false;
          return;
        }
        if (/^bad_|^queue_full$/.test(f.code || '') && cbPending) {
          callbackFailed(f.message || f.code);
          break;
        }
        system('Error: ' + (f.message || f.code || 'unknown'));
        if (f.code === 'closed') end('This chat is closed.');
        break;
      default:
        break;
    }
  };
  ws.onclose = () => {
    if (closed) return;
    const s = saved();
    if (!s) { end('The connection closed.'); return; }
    setStatus('reconnecting…', 'waiting');
    setTimeout(() => connect({ type: 'resume', task: s.task, key: s.key }), backoff);
    backoff = Math.min(backoff * 2, 10000);
  };
}

startForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  myName = $('name').value.trim();
  const lang = $('lang').value;
  const first = $('first').value.trim();
  if (!myName) return;
  startForm.hidden = true;
  chatBox.hidden = false;
  connect({ type: 'start', name: myName, lang }, first);
});

// a chat in progress (reload): take it up again
(() => {
  const s = saved();
  if (!s) return;
  myName = s.name || '';
  startForm.hidden = true;
  chatBox.hidden = false;
  connect({ type: 'resume', task: s.task, key: s.key });
})();

sendForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (sendMessage(text.value.trim())) text.value = '';
});
text.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); sendForm.requestSubmit(); }
});
leaveBtn.addEventListener('click', () => {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'end' }));
  end('You ended the chat.');
  if (ws) setTimeout(() => ws.close(), 100);
});

// ---- "call me back" ----

const cbForm = $('callback'), cbStatus = $('callback-status');
let cbPending = false;

function callbackDone(phone, notBefore) {
  cbPending = false;
  cbForm.querySelector('button').disabled = false;
  const when = notBefore && Date.parse(notBefore) > Date.now()
    ? 'from ' + new Date(notBefore).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) : 'shortly';
  cbStatus.className = 'cb-status ok';
  cbStatus.textContent = 'Thank you. We will call you at ' + phone + ' ' + when + '.';
}

function callbackFailed(why) {
  cbPending = false;
  cbForm.querySelector('button').disabled = false;
  cbStatus.className = 'cb-status bad';
  cbStatus.textContent = why;
  $('phone').setAttribute('aria-invalid', 'true');
  $('phone').focus();
}

cbForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const phone = $('phone').value.trim();
  $('phone').removeAttribute('aria-invalid');
  if (!phone) { callbackFailed('Please write your phone number, with the country code (+7 495 123-45-67).'); return; }
  const w = $('when').value;
  const notBefore = w ? new Date(w).toISOString().replace(/\.\d+Z$/, 'Z') : undefined;
  cbPending = true;
  cbForm.querySelector('button').disabled = true;
  cbStatus.className = 'cb-status';
  cbStatus.textContent = 'Sending…';
  if (!closed && saved() && ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify({ type: 'callback', phone, not_before: notBefore }));
    return;
  }
  try {
    const name = (myName || $('name').value || '').trim() || undefined;
    const r = await fetch('/api/callbacks', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ phone, name, not_before: notBefore }) });
    const b = await r.json().catch(() => ({}));
    if (r.status === 201 && b.task) {
      const nb = Number(b.task.not_before);
      callbackDone(b.task.phone, nb > Date.now() ? new Date(nb).toISOString() : null);
    } else {
      callbackFailed(b.message || ('The request failed (HTTP ' + r.status + ').'));
    }
  } catch (e) {
    callbackFailed('The request failed: ' + e.message);
  }
});
