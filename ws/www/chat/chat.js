// Customer chat widget: /ws/chat (subprotocol ctx.chat.v1). Start with a
// name and language, then exchange messages with the agent who accepts the
// chat. Every message goes into the page as text, never as HTML.
'use strict';

const $ = (id) => document.getElementById(id);
const startForm = $('start'), sendForm = $('send'), chatBox = $('chat'), log = $('log');
const statusEl = $('status'), text = $('text'), leaveBtn = $('leave');
let ws = null;
let myName = '';
let closed = false;

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

startForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  myName = $('name').value.trim();
  const lang = $('lang').value;
  const first = $('first').value.trim();
  if (!myName) return;
  startForm.hidden = true;
  chatBox.hidden = false;
  setStatus('connecting…');
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  ws = new WebSocket(proto + '//' + location.host + '/ws/chat', 'ctx.chat.v1');
  ws.onopen = () => ws.send(JSON.stringify({ type: 'start', name: myName, lang }));
  ws.onmessage = (ev) => {
    let f;
    try { f = JSON.parse(ev.data); } catch (e) { return; }
    if (!f) return;
    switch (f.type) {
      case 'started':
        setStatus('waiting for an agent…', 'waiting');
        system('Thanks, ' + myName + '. An agent will be with you shortly.');
        if (first) sendMessage(first);
        text.focus();
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
      case 'error':
        system('Error: ' + (f.message || f.code || 'unknown'));
        if (f.code === 'closed') end('This chat is closed.');
        break;
      default:
        break;
    }
  };
  ws.onclose = () => { if (!closed) end('The connection closed.'); };
});

sendForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (sendMessage(text.value.trim())) text.value = '';
});
text.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); sendForm.requestSubmit(); }
});
leaveBtn.addEventListener('click', () => {
  if (ws) ws.close();
  end('You ended the chat.');
});
