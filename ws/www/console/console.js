// Agent console: /ws/agent (subprotocol ctx.agent.v1). Log in with the agent
// token (kept in sessionStorage so a reload logs in again), take offers,
// work tasks in tabs, reconnect by itself (the server sends the tasks held
// as `resume` frames). Every text that comes from a post, a customer or the
// server goes into the page as text (textContent), never as HTML.
'use strict';

const TOKEN_KEY = 'ctx.agent.token';
const $ = (id) => document.getElementById(id);

const ui = {
  login: $('login'), token: $('token'), loginError: $('login-error'),
  desk: $('desk'), who: $('who'), conn: $('conn'), logout: $('logout'),
  stateSwitch: $('state-switch'), state: $('state'),
  goAvailable: $('go-available'), goAway: $('go-away'),
  notice: $('notice'), offers: $('offers'), offersCount: $('offers-count'),
  noOffers: $('no-offers'), tabs: $('tabs'), panels: $('panels'), noTasks: $('no-tasks'),
};

let token = null;
let ws = null;
let agent = null;
let agentState = 'offline';
let wrapupUntil = 0;
let awayAsked = false;             // the agent asked for away (not the server)
let backoff = 500;
let reconnectTimer = null;
let queues = [];                    // names, for the transfer menus
const tasks = new Map();            // task id -> task record (see taskRecord)
const replies = new Map();          // reply id -> {task, text, li}
let pendingReplies = [];            // replies sent, waiting for their reply id (FIFO)
let current = null;                 // task id of the tab shown
let resumeSweep = null;

// ---- small helpers -------------------------------------------------------

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = String(v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids) if (k !== null && k !== undefined && k !== false)
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

// The complaint tag of a post ({label, score, reasons}), or null when the
// analyzer did not call it a complaint (label true).
function complaintOf(it) {
  const c = it && it.tags && it.tags.complaint;
  if (!c || c.label !== true) return null;
  return { score: typeof c.score === 'number' ? c.score : null,
    reasons: (Array.isArray(c.reasons) ? c.reasons : []).filter((r) => typeof r === 'string' && r) };
}

function safeUrl(u) {
  return typeof u === 'string' && /^https?:\/\//i.test(u) ? u : null;
}

function fmtTime(t) {
  const d = t ? new Date(t) : null;
  return d && !isNaN(d) ? d.toLocaleTimeString() : '';
}

function send(obj) {
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify(obj));
    return true;
  }
  notice('Not connected: "' + obj.type + '" was not sent; reconnecting…');
  return false;
}

let noticeTimer = null;
function notice(text, sticky) {
  ui.notice.textContent = text;
  ui.notice.hidden = false;
  clearTimeout(noticeTimer);
  if (!sticky) noticeTimer = setTimeout(() => { ui.notice.hidden = true; }, 8000);
}

function api(path, opts = {}) {
  const headers = Object.assign({ Authorization: 'Bearer ' + token }, opts.headers || {});
  if (opts.body) headers['Content-Type'] = 'application/json';
  return fetch(path, Object.assign({}, opts, { headers }));
}

function typing(target) {
  if (!target || !target.tagName) return false;
  const t = target.tagName;
  return t === 'INPUT' || t === 'TEXTAREA' || t === 'SELECT' || target.isContentEditable;
}

// ---- login and connection --------------------------------------------------

function showLogin(message) {
  ui.login.hidden = false;
  ui.desk.hidden = true;
  ui.who.hidden = true;
  ui.stateSwitch.hidden = true;
  ui.logout.hidden = true;
  ui.loginError.textContent = message || '';
  ui.token.focus();
}

function login(t) {
  token = t;
  sessionStorage.setItem(TOKEN_KEY, t);
  ui.login.hidden = true;
  ui.desk.hidden = false;
  ui.logout.hidden = false;
  connect();
}

function logout() {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'state', state: 'away' }));
  stop();
  sessionStorage.removeItem(TOKEN_KEY);
  token = null;
  for (const id of [...tasks.keys()]) dropTask(id);
  showLogin('Logged out.');
}

function stop() {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  if (ws) {
    const w = ws;
    ws = null;
    w.onclose = null;
    w.close();
  }
  setConn(false, 'not connected');
}

function setConn(up, text) {
  ui.conn.textContent = text;
  ui.conn.className = 'status ' + (up ? 'live' : 'down');
}

function connect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const w = new WebSocket(proto + '//' + location.host + '/ws/agent', 'ctx.agent.v1');
  ws = w;
  setConn(false, 'connecting…');
  w.onopen = () => w.send(JSON.stringify({ type: 'hello', token }));
  w.onmessage = (ev) => {
    let f;
    try { f = JSON.parse(ev.data); } catch (e) { return; }
    if (f && typeof f.type === 'string') onFrame(f);
  };
  w.onclose = () => {
    if (ws !== w) return;
    ws = null;
    if (!token) return;
    const wait = Math.min(backoff, 10000) * (0.75 + Math.random() * 0.5);
    backoff = Math.min(backoff * 2, 10000);
    setConn(false, 'reconnecting in ' + Math.ceil(wait / 1000) + ' s…');
    reconnectTimer = setTimeout(connect, wait);
  };
}

// ---- frames from the server ------------------------------------------------

const handlers = {
  welcome(f) {
    backoff = 500;
    agent = f.agent || {};
    ui.who.textContent = (agent.name || agent.id || '') + (agent.role ? ' · ' + agent.role : '');
    ui.who.hidden = false;
    ui.stateSwitch.hidden = false;
    setConn(true, 'connected');
    setState(agent.state || 'away');
    pendingReplies = [];
    loadQueues();
    // Tasks held are about to come back as `resume` frames; those that do
    // not were taken back while we were away (disconnected past the grace).
    for (const t of tasks.values()) t.resumed = false;
    clearTimeout(resumeSweep);
    resumeSweep = setTimeout(() => {
      for (const t of [...tasks.values()]) if (!t.resumed) {
        notice('Task ' + t.id + ' went back to the queue while you were disconnected.');
        dropTask(t.id);
      }
    }, 3000);
  },
  offer(f) { upsertTask(f, 'offered'); },
  assigned(f) { upsertTask(f, 'assigned'); select(f.task.id); },
  resume(f) { upsertTask(f, f.task && f.task.state === 'assigned' ? 'assigned' : 'offered'); },
  revoked(f) {
    const t = tasks.get(f.task);
    const why = { timeout: 'the offer timed out', timed_out: 'the offer timed out',
      transferred: 'transferred', abandoned: 'the customer left',
      retry: 'back in the queue to be called again later',
      busy: 'abandoned: busy on every attempt', no_answer: 'abandoned: no answer on every attempt' }[f.reason] ||
      f.reason || 'revoked';
    if (t) notice(taskTitle(t) + ': ' + why + '.');
    dropTask(f.task);
  },
  state(f) {
    if (f.state === 'away' && agentState === 'available' && !awayAsked) {
      notice('You were set away after offers went unanswered. Set yourself available to get tasks again.', true);
    }
    awayAsked = false;
    wrapupUntil = f.state === 'wrapup' && f.until ? Number(f.until) : 0;
    setState(f.state);
  },
  chat_message(f) {
    const t = tasks.get(f.task);
    if (!t || !f.message) return;
    const key = JSON.stringify([f.message.from, f.message.text, f.message.at]);
    const seen = t.snapshot ? t.snapshot.indexOf(key) : -1;
    if (seen >= 0) { t.snapshot.splice(seen, 1); return; }
    t.history.push(f.message);
    if (t.log) addMessage(t.log, f.message);
    if (current !== t.id) markUnread(t, true);
  },
  customer_left(f) {
    const t = tasks.get(f.task);
    if (!t) return;
    t.customerLeft = true;
    if (t.log) t.log.append(el('li', { class: 'sys', text: 'The customer left the chat. Press Done to finish.' }));
    renderPanelState(t);
  },
  reply_status(f) { onReplyStatus(f); },
  call(f) {
    const t = tasks.get(f.task);
    if (!t) return;
    t.call = { state: f.state, leg: f.leg, since: Number(f.since) || Date.now(), outcome: f.outcome,
      reason: f.reason, talk_s: f.talk_s };
    if (f.attempt) t.task.call_attempts = String(f.attempt);
    renderCall(t);
  },
  callback_queued(f) {
    const t = tasks.get(f.parent);
    const msg = 'Callback queued (' + f.task + ').';
    if (t && t.actionsNote) t.actionsNote.textContent = msg;
    else notice(msg);
  },
  queue_stats(f) { renderQueueStats(f); },
  error(f) {
    if (f.code === 'auth') {
      stop();
      sessionStorage.removeItem(TOKEN_KEY);
      token = null;
      showLogin('That token was not accepted.');
      return;
    }
    if (f.task && tasks.get(f.task) && tasks.get(f.task).callLine && f.code === 'no_dialer') {
      const t = tasks.get(f.task);
      t.call = { state: 'ended', outcome: 'not called', reason: f.message };
      renderCall(t);
      return;
    }
    if (f.code === 'noreply' && pendingReplies.length) {
      const p = pendingReplies.shift();
      setReplyLine(p.li, 'failed', 'this network takes no replies; open the link instead');
    }
    notice('Error (' + f.code + '): ' + (f.message || ''));
  },
  pong() {},
};

function onFrame(f) {
  const h = handlers[f.type];
  if (h) h(f);
}

function setState(s) {
  agentState = s;
  ui.state.textContent = s === 'wrapup' ? 'wrap-up' : s;
  ui.state.className = 'state ' + s;
  ui.goAvailable.setAttribute('aria-pressed', String(s === 'available'));
  ui.goAway.setAttribute('aria-pressed', String(s === 'away'));
  tickWrapup();
}

function tickWrapup() {
  if (agentState !== 'wrapup' || !wrapupUntil) return;
  const left = Math.max(0, Math.ceil((wrapupUntil - Date.now()) / 1000));
  ui.state.textContent = 'wrap-up ' + left + ' s';
}

async function loadQueues() {
  try {
    const r = await api('/api/queues');
    if (!r.ok) return;
    const j = await r.json();
    queues = (j.queues || []).map((q) => q.name).filter((n) => typeof n === 'string');
    for (const t of tasks.values()) fillQueues(t);
  } catch (e) { /* the menu stays as it was */ }
}

// ---- tasks -----------------------------------------------------------------

function taskTitle(t) {
  const it = t.item;
  if (t.task.channel === 'chat') return 'Chat · ' + (t.task.name || 'customer');
  if (t.task.channel === 'callback') return 'Callback · ' + (t.task.phone || '');
  if (it && it.author) return (it.author.name || it.author.handle || 'post') + ' · ' + (it.source || '');
  return t.task.channel + ' · ' + t.id;
}

function upsertTask(f, state) {
  if (!f.task || !f.task.id) return;
  const id = f.task.id;
  let t = tasks.get(id);
  if (!t) {
    t = { id, replies: [] };
    tasks.set(id, t);
  }
  t.resumed = true;
  t.task = f.task;
  if (f.item) t.item = f.item;
  if (Array.isArray(f.history)) {
    // a snapshot: a chat_message that crossed it on the way may repeat one of it
    t.history = f.history.slice();
    t.snapshot = f.history.map((m) => JSON.stringify([m.from, m.text, m.at]));
  }
  if (!t.history) t.history = [];
  t.customerLeft = t.customerLeft || !!f.task.customer_left;
  const was = t.state;
  t.state = state;
  if (state === 'offered') {
    if (typeof f.expires_in === 'number') t.expiresAt = Date.now() + f.expires_in * 1000;
    else if (f.task.offer_expires) t.expiresAt = Number(f.task.offer_expires);
    t.expiresTotal = Math.max(1, (t.expiresAt - Date.now()) / 1000);
    renderOffer(t);
  } else {
    removeOffer(t);
    if (was !== 'assigned' || !t.panel) renderPanel(t);
    else if (t.task.channel === 'chat') renderConversation(t);
  }
  refreshEmpty();
}

function dropTask(id) {
  const t = tasks.get(id);
  if (!t) return;
  clearInterval(t.callTimer);
  clearTimeout(t.askTimer);
  removeOffer(t);
  if (t.tab) t.tab.remove();
  if (t.panel) t.panel.remove();
  tasks.delete(id);
  if (current === id) {
    current = null;
    const next = [...tasks.values()].find((x) => x.state === 'assigned');
    if (next) select(next.id);
  }
  refreshEmpty();
}

function refreshEmpty() {
  const offers = ui.offers.children.length;
  ui.offersCount.textContent = String(offers);
  ui.noOffers.hidden = offers > 0;
  ui.noTasks.hidden = ui.tabs.children.length > 0;
}

// ---- offers ----------------------------------------------------------------

function preview(t) {
  const box = el('div', { class: 'preview' });
  const it = t.item;
  if (t.task.channel === 'chat') {
    const last = t.history[t.history.length - 1];
    box.append(el('span', { class: 'who', text: t.task.name || 'customer' }));
    if (last) box.append(el('q', { text: last.text || '' }));
  } else if (t.task.channel === 'callback') {
    box.append(el('span', { class: 'who', text: (t.task.name ? t.task.name + ' ' : '') + (t.task.phone || '') }));
  } else if (it) {
    box.append(el('span', { class: 'who', text: (it.author && (it.author.name || it.author.handle)) || '' }));
    const s = (it.tags && it.tags.sentiment) || {};
    if (s.label) box.append(el('span', { class: 'badge ' + s.label, text: s.label }));
    if (it.tags && it.tags.urgent) box.append(el('span', { class: 'badge urgent', text: 'urgent' }));
    if (complaintOf(it)) box.append(el('span', { class: 'badge complaint', text: 'complaint' }));
    box.append(el('q', { text: (it.text || '').slice(0, 240) }));
  }
  return box;
}

function renderOffer(t) {
  removeOffer(t);
  const countdown = el('span', { class: 'countdown' });
  const bar = el('progress', { max: String(Math.round(t.expiresTotal * 10)), 'aria-hidden': 'true' });
  const li = el('li', { class: 'offer ' + t.task.channel, 'data-task': t.id },
    el('div', { class: 'offer-head' },
      el('span', { class: 'channel ' + t.task.channel, text: t.task.channel }),
      el('span', { class: 'queue', text: 'queue ' + (t.task.queue || '') }),
      t.task.priority && t.task.priority !== '0' ? el('span', { class: 'prio', text: 'priority ' + t.task.priority }) : null,
      countdown),
    preview(t), bar,
    el('div', { class: 'offer-actions' },
      el('button', { type: 'button', class: 'accept', onclick: () => accept(t.id), text: 'Accept' }),
      el('button', { type: 'button', class: 'reject', onclick: () => reject(t.id), text: 'Reject' })));
  t.offerEl = li;
  t.countdownEl = countdown;
  t.barEl = bar;
  ui.offers.prepend(li);
  tickOffer(t);
}

function tickOffer(t) {
  if (!t.offerEl || !t.expiresAt) return;
  const left = Math.max(0, (t.expiresAt - Date.now()) / 1000);
  t.countdownEl.textContent = Math.ceil(left) + ' s';
  t.barEl.value = Math.round(left * 10);
}

function removeOffer(t) {
  if (t.offerEl) t.offerEl.remove();
  t.offerEl = null;
}

function accept(id) {
  const t = tasks.get(id);
  if (!t || t.state !== 'offered') return;
  if (send({ type: 'accept', task: id }) && t.offerEl) {
    t.offerEl.classList.add('pending');
    for (const b of t.offerEl.querySelectorAll('button')) b.disabled = true;
  }
}

function reject(id) {
  const t = tasks.get(id);
  if (!t || t.state !== 'offered') return;
  if (send({ type: 'reject', task: id })) dropTask(id);
}

function newestOffer() {
  const li = ui.offers.querySelector('li.offer:not(.pending)');
  return li ? li.getAttribute('data-task') : null;
}

// ---- task panels -----------------------------------------------------------

function select(id) {
  const t = tasks.get(id);
  if (!t || !t.tab) return;
  current = id;
  for (const x of tasks.values()) if (x.tab) {
    const on = x.id === id;
    x.tab.setAttribute('aria-selected', String(on));
    x.tab.tabIndex = on ? 0 : -1;
    x.panel.hidden = !on;
  }
  markUnread(t, false);
}

function markUnread(t, on) {
  if (t.tab) t.tab.classList.toggle('unread', on);
}

let panelSeq = 0;
function renderPanel(t) {
  if (t.tab) t.tab.remove();
  if (t.panel) t.panel.remove();
  const n = ++panelSeq;
  const tab = el('button', { type: 'button', role: 'tab', id: 'tab-' + n, 'aria-controls': 'panel-' + n,
    'aria-selected': 'false', tabindex: '-1', class: 'tab ' + t.task.channel, onclick: () => select(t.id) },
  el('span', { class: 'channel ' + t.task.channel, text: t.task.channel }), ' ', taskTitle(t));
  const panel = el('section', { role: 'tabpanel', id: 'panel-' + n, 'aria-labelledby': 'tab-' + n,
    class: 'panel', hidden: true, 'data-task': t.id });
  t.tab = tab;
  t.panel = panel;
  ui.tabs.append(tab);
  ui.panels.append(panel);

  panel.append(el('div', { class: 'task-head' },
    el('span', { class: 'channel ' + t.task.channel, text: t.task.channel }),
    el('span', { text: 'queue ' + (t.task.queue || '') }),
    el('span', { class: 'muted', text: t.id })));

  if (t.task.channel === 'chat') renderChat(t, panel);
  else if (t.task.channel === 'callback') renderCallbackTask(t, panel);
  else renderSocial(t, panel);

  panel.append(renderActions(t));
  renderPanelState(t);
  if (!current || !tasks.get(current) || !tasks.get(current).tab) select(t.id);
}

function renderSocial(t, panel) {
  const it = t.item || {};
  const tags = it.tags || {};
  const s = tags.sentiment || {};
  const author = it.author || {};
  const post = el('article', { class: 'post ' + (s.label || '') });
  const meta = el('div', { class: 'meta' },
    el('span', { class: 'author', text: author.name || author.handle || 'unknown author' }),
    author.handle && author.name ? el('span', { class: 'handle', text: author.handle }) : null,
    typeof author.followers === 'number' ? el('span', { text: author.followers + ' followers' }) : null,
    el('span', { class: 'network', text: (it.reply_to && it.reply_to.network) || it.source || '' }),
    it.published ? el('time', { datetime: it.published, text: fmtTime(it.published) }) : null);
  post.append(meta);
  const tagRow = el('div', { class: 'tags' });
  if (s.label) tagRow.append(el('span', { class: 'badge ' + s.label,
    text: s.label + (typeof s.score === 'number' ? ' ' + s.score.toFixed(2) : '') }));
  if (tags.urgent) tagRow.append(el('span', { class: 'badge urgent', text: 'urgent' }));
  const complaint = complaintOf(it);
  if (complaint) {
    tagRow.append(el('span', { class: 'badge complaint',
      title: complaint.score !== null ? 'complaint score ' + complaint.score.toFixed(2) : null,
      text: 'complaint' }));
    if (complaint.reasons.length) tagRow.append(el('span', { class: 'reasons', title: 'why it is a complaint' },
      ...complaint.reasons.map((r) => el('span', { class: 'reason', text: r }))));
  }
  for (const b of tags.brands || []) tagRow.append(el('span', { class: 'tag brand', text: b }));
  for (const tp of tags.topics || []) tagRow.append(el('span', { class: 'tag', text: tp }));
  post.append(tagRow);
  if (it.title) post.append(el('h3', { class: 'title', text: it.title }));
  post.append(el('div', { class: 'text', text: it.text || '' }));
  const url = safeUrl(it.url);
  if (url) post.append(el('a', { class: 'link', href: url, target: '_blank', rel: 'noopener noreferrer',
    text: 'Open the post' }));
  panel.append(post);

  if (it.reply_to && it.reply_to.network) {
    t.replyList = el('ol', { class: 'replies', 'aria-label': 'Your replies', 'aria-live': 'polite' });
    panel.append(t.replyList);
    for (const r of t.replies) t.replyList.append(r.li);
    panel.append(replyBox(t, 'Reply on ' + it.reply_to.network));
  } else {
    panel.append(el('p', { class: 'noreply' }, 'This network takes no replies here. ',
      url ? el('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: 'Answer on the site' }) : null));
  }
}

function renderChat(t, panel) {
  t.log = el('ol', { class: 'conversation', role: 'log', 'aria-label': 'Conversation', 'aria-live': 'polite' });
  panel.append(t.log);
  renderConversation(t);
  panel.append(replyBox(t, 'Message to ' + (t.task.name || 'the customer')));
}

function renderConversation(t) {
  if (!t.log) return;
  t.log.replaceChildren();
  for (const m of t.history) addMessage(t.log, m);
  if (t.customerLeft) t.log.append(el('li', { class: 'sys', text: 'The customer left the chat. Press Done to finish.' }));
}

function addMessage(log, m) {
  const from = m.from === 'agent' ? 'agent' : 'customer';
  log.append(el('li', { class: 'msg ' + from },
    el('span', { class: 'name', text: m.name || from }),
    m.at ? el('time', { datetime: m.at, text: fmtTime(m.at) }) : null,
    el('div', { class: 'body', text: m.text || '' })));
  log.scrollTop = log.scrollHeight;
}

// When a callback may ring: not_before is ms since the epoch, "0" or absent
// when the customer asked for no time ("now").
function whenText(nb) {
  const ms = Number(nb);
  if (!Number.isFinite(ms) || ms <= Date.now()) return 'now';
  return new Date(ms).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

function clock(s) {
  s = Math.max(0, Math.floor(s));
  return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
}

const OUTCOMES = { answered: 'answered', busy: 'busy', no_answer: 'no answer', rejected: 'rejected',
  failed: 'failed', agent_failed: 'your phone did not answer', cancelled: 'cancelled',
  not_called: 'not called' };

function renderCallbackTask(t, panel) {
  const phone = t.task.phone || '';
  const attempts = Number(t.task.call_attempts) || 0;
  panel.append(el('div', { class: 'callback-info' },
    el('p', {}, 'Call ', el('a', { href: 'tel:' + phone.replace(/[^+\d]/g, ''), text: phone }),
      t.task.name ? ' (' + t.task.name + ')' : ''),
    el('p', { class: 'when', text: 'When: ' + whenText(t.task.not_before) }),
    attempts ? el('p', { class: 'muted attempts', text: 'Called ' + attempts + ' time' + (attempts === 1 ? '' : 's') +
      (t.task.outcome ? '; last: ' + (OUTCOMES[t.task.outcome] || t.task.outcome) : '') }) : null,
    t.task.parent ? el('p', { class: 'muted', text: 'From task ' + t.task.parent }) : null));
  // what led to the callback: the post, or the chat
  if (t.item && t.item.text) {
    panel.append(el('blockquote', { class: 'origin', text: t.item.text }));
  } else if (t.history && t.history.length) {
    const log = el('ol', { class: 'chat-log origin' });
    for (const m of t.history) addMessage(log, m);
    panel.append(log);
  }
  // the call: its state live, Call and Hang up
  if (!t.call && t.task.call_state) {
    t.call = { state: t.task.call_state, leg: t.task.call_leg, since: Number(t.task.call_since) || 0,
      outcome: t.task.outcome, reason: t.task.call_reason, talk_s: t.task.talk_s };
  }
  t.callLine = el('p', { class: 'call-state', role: 'status', 'aria-live': 'polite' });
  t.callBtn = el('button', { type: 'button', class: 'call', text: 'Call',
    onclick: () => { if (send({ type: 'call', task: t.id })) { t.call = { state: 'asking' }; renderCall(t); } } });
  t.hangupBtn = el('button', { type: 'button', class: 'hangup', text: 'Hang up',
    onclick: () => send({ type: 'hangup', task: t.id }) });
  panel.append(el('div', { class: 'call-box' }, t.callLine, t.callBtn, t.hangupBtn));
  renderCall(t);
}

function callActive(c) {
  return !!c && ['asking', 'dialing', 'ringing', 'talking'].includes(c.state);
}

function renderCall(t) {
  if (!t.callLine) return;
  const c = t.call;
  let text = 'Not called yet.';
  if (c) {
    const agentLeg = c.leg === 'agent';
    if (c.state === 'asking') text = 'Asking the dialer…';
    else if (c.state === 'dialing') text = agentLeg ? 'Calling your phone…' : 'Calling the customer…';
    else if (c.state === 'ringing') text = agentLeg ? 'Your phone is ringing: answer it.' : 'The customer\'s phone is ringing…';
    else if (c.state === 'talking') text = 'Talking ' + clock((Date.now() - (c.since || Date.now())) / 1000);
    else if (c.state === 'ended') {
      text = 'Ended: ' + (OUTCOMES[c.outcome] || c.outcome || 'over');
      if (c.outcome === 'answered' && c.talk_s !== undefined) text += ' after ' + clock(Number(c.talk_s));
      else if (c.reason) text += ' (' + c.reason + ')';
    }
  }
  t.callLine.textContent = text;
  t.callLine.dataset.state = c ? c.state : 'none';
  const active = callActive(c);
  t.callBtn.disabled = active || t.state !== 'assigned';
  t.hangupBtn.disabled = !active || (c && c.state === 'asking');
  clearInterval(t.callTimer);
  clearTimeout(t.askTimer);
  if (c && c.state === 'talking') t.callTimer = setInterval(() => renderCall(t), 1000);
  if (c && c.state === 'asking') {
    // no dialer took it (none running, or Redis away): say so, allow another try
    t.askTimer = setTimeout(() => {
      if (t.call === c) { t.call = { state: 'ended', outcome: 'not called', reason: 'no dialer answered; try again' }; renderCall(t); }
    }, 10000);
  }
}

function replyBox(t, label) {
  const n = panelSeq;
  const area = el('textarea', { id: 'reply-' + n, class: 'reply-text', rows: '3', maxlength: '10000' });
  const btn = el('button', { type: 'submit', class: 'send', text: 'Send' });
  const form = el('form', { class: 'reply-box' },
    el('label', { for: 'reply-' + n, text: label }), area,
    el('div', { class: 'row' }, btn, el('span', { class: 'hint', text: 'Ctrl+Enter sends' })));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); sendReply(t); });
  area.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); sendReply(t); }
  });
  // the customer of a chat sees "… is typing" (at most one frame per 3 s)
  area.addEventListener('input', () => {
    if (t.task.channel !== 'chat' || Date.now() - (t.typedAt || 0) < 3000) return;
    t.typedAt = Date.now();
    send({ type: 'typing', task: t.task.id });
  });
  t.replyText = area;
  t.replyBtn = btn;
  return form;
}

function sendReply(t) {
  const text = t.replyText.value.trim();
  if (!text || t.state !== 'assigned') return;
  if (!send({ type: 'reply', task: t.id, text })) return;
  t.replyText.value = '';
  if (t.task.channel === 'chat') {
    const m = { from: 'agent', name: (agent && agent.name) || 'me', text, at: new Date().toISOString() };
    t.history.push(m);
    addMessage(t.log, m);
  } else {
    const li = el('li', { class: 'reply' }, el('div', { class: 'body', text }),
      el('span', { class: 'reply-status queued', text: 'sending…' }));
    const r = { li, text };
    t.replies.push(r);
    t.replyList.append(li);
    pendingReplies.push({ task: t.id, li });
  }
}

function setReplyLine(li, status, error, ref) {
  const s = li.querySelector('.reply-status');
  s.className = 'reply-status ' + status;
  const words = { queued: 'queued', retrying: 'retrying…', posted: 'posted', failed: 'failed' };
  s.textContent = (words[status] || status) + (error ? ': ' + error : '') +
    (status === 'posted' && ref ? ' (' + ref + ')' : '');
}

function onReplyStatus(f) {
  let r = replies.get(f.reply);
  if (!r) {
    // The first frame of a reply we sent names its new id; replies are
    // queued in the order they were sent on this connection.
    const p = f.status === 'queued' ? pendingReplies.shift() : null;
    if (!p) return;
    r = { task: p.task, li: p.li };
    replies.set(f.reply, r);
    p.li.setAttribute('data-reply', f.reply);
  }
  setReplyLine(r.li, f.status, f.error, f.ref);
}

function renderActions(t) {
  const n = panelSeq;
  const sel = el('select', { id: 'transfer-' + n });
  const phone = el('input', { id: 'phone-' + n, type: 'tel', placeholder: '+7 495 123-45-67',
    autocomplete: 'off', value: t.task.phone || '' });
  const transferBtn = el('button', { type: 'submit', text: 'Transfer' });
  t.transferSel = sel;
  t.transferBtn = transferBtn;
  fillQueues(t);
  const note = el('p', { class: 'muted', 'aria-live': 'polite' });
  t.actionsNote = note;
  const done = el('button', { type: 'button', class: 'done', onclick: () => done_(t.id), text: 'Done' });
  t.doneBtn = done;
  return el('div', { class: 'actions' },
    el('form', { class: 'inline', onsubmit: (ev) => {
      ev.preventDefault();
      if (sel.value && send({ type: 'transfer', task: t.id, queue: sel.value }))
        note.textContent = 'Transferring to ' + sel.value + '…';
    } }, el('label', { for: 'transfer-' + n, text: 'Transfer to' }), sel, transferBtn),
    el('form', { class: 'inline', onsubmit: (ev) => {
      ev.preventDefault();
      const p = phone.value.trim();
      if (p && send({ type: 'callback', task: t.id, phone: p })) note.textContent = 'Asking for a callback…';
    } }, el('label', { for: 'phone-' + n, text: 'Call back' }), phone,
    el('button', { type: 'submit', text: 'Queue callback' })),
    done, note);
}

function fillQueues(t) {
  if (!t.transferSel) return;
  const keep = t.transferSel.value;
  const others = queues.filter((q) => q !== t.task.queue);
  t.transferSel.replaceChildren(...others.map((q) => el('option', { value: q, text: q })));
  if (!others.length) t.transferSel.append(el('option', { value: '', text: 'no other queue' }));
  t.transferSel.disabled = !others.length;
  t.transferBtn.disabled = !others.length;
  if (keep) t.transferSel.value = keep;
}

function renderPanelState(t) {
  if (t.replyText) {
    const closed = t.task.channel === 'chat' && t.customerLeft;
    t.replyText.disabled = closed;
    if (t.replyBtn) t.replyBtn.disabled = closed;
  }
}

function done_(id) {
  const t = tasks.get(id);
  if (!t || t.state !== 'assigned') return;
  if (send({ type: 'done', task: id })) {
    notice('Done: ' + taskTitle(t) + '.');
    dropTask(id);
  }
}

function renderQueueStats(f) {
  let box = $('queue-stats');
  if (!box) {
    box = el('section', { id: 'queue-stats', class: 'queue-stats', 'aria-label': 'Queues' });
    ui.desk.append(box);
  }
  const rows = (f.queues || []).map((q) => el('tr', {},
    el('td', { text: q.name }), el('td', { text: q.waiting }), el('td', { text: q.offered }),
    el('td', { text: q.assigned })));
  box.replaceChildren(el('h2', { text: 'Queues' }), el('table', {},
    el('thead', {}, el('tr', {}, el('th', { text: 'queue' }), el('th', { text: 'waiting' }),
      el('th', { text: 'offered' }), el('th', { text: 'assigned' }))), el('tbody', {}, ...rows)));
}

// ---- wiring ----------------------------------------------------------------

ui.login.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const t = ui.token.value.trim();
  if (t) { ui.token.value = ''; login(t); }
});
ui.logout.addEventListener('click', logout);
ui.goAvailable.addEventListener('click', () => {
  send({ type: 'state', state: 'available' });
  ui.notice.hidden = true;
});
ui.goAway.addEventListener('click', () => { awayAsked = send({ type: 'state', state: 'away' }); });

ui.tabs.addEventListener('keydown', (ev) => {
  if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
  const tabs = [...ui.tabs.children];
  const i = tabs.indexOf(document.activeElement);
  if (i < 0) return;
  const next = tabs[(i + (ev.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
  next.focus();
  next.click();
});

document.addEventListener('keydown', (ev) => {
  if (ev.ctrlKey || ev.altKey || ev.metaKey || typing(ev.target) || !token) return;
  const t = current ? tasks.get(current) : null;
  if (ev.key === 'a') {
    const id = newestOffer();
    if (id) { ev.preventDefault(); accept(id); }
  } else if (ev.key === 'r') {
    if (t && t.replyText && !t.replyText.disabled) { ev.preventDefault(); t.replyText.focus(); }
  } else if (ev.key === 'd') {
    if (t) { ev.preventDefault(); done_(t.id); }
  }
});

setInterval(() => {
  for (const t of tasks.values()) if (t.offerEl) tickOffer(t);
  tickWrapup();
}, 250);

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) login(saved);
else showLogin('');
