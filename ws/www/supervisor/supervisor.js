// supervisor.js -- queues and agents, live.
//
// Logs in on /ws/agent (subprotocol ctx.agent.v1) with a supervisor token:
// {"type":"hello","token":T,"as":"supervisor"} -> {"type":"welcome","agent":{…,"role":…},"watching":true}:
// a watching session counts as no agent connection and takes no tasks.
// ctxd then pushes {"type":"queue_stats","queues":[…],"agents":[…]} every
// 2 s to supervisor sessions. The page also reads GET /api/queues and GET
// /api/agents once at login (so it shows something at once) and keeps
// polling them every 2 s whenever no queue_stats frame has arrived for 3 s
// (an older ctxd, or a dropped socket), so it stays current either way.
// The header says which source the figures came from.
//
// Everything from the server reaches the page as text (textContent).
'use strict';
(() => {
  const TOKEN_KEY = 'ctx.token';
  const POLL_MS = 2000;
  const STALE_MS = 3000;
  const SL_GOAL = 0.8;            // below this share the service level is shown in red

  const $ = (id) => document.getElementById(id);
  const ui = {
    login: $('login'), token: $('token'), loginError: $('login-error'), app: $('app'),
    who: $('who'), status: $('status'), logout: $('logout'), summary: $('summary'),
    updated: $('updated'), error: $('error'), calls: $('calls'),
    queues: document.querySelector('#queues tbody'), agents: document.querySelector('#agents tbody'),
  };

  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  let ws = null;
  let conn = 0;
  let backoff = 500;
  let retryTimer = null;
  let authFailed = false;
  let lastFrameAt = 0;            // when the last queue_stats frame arrived
  let lastDataAt = 0;
  let polling = false;
  let watchdog = null;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null && text !== '') e.textContent = String(text);
    return e;
  }

  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : Number(v) || 0);
  const cssWord = (s) => String(s || '').replace(/[^a-z-]/gi, '');

  function dur(s) {
    if (s === null || s === undefined || !Number.isFinite(Number(s))) return '—';
    s = Math.max(0, Number(s));
    if (s < 10) return s.toFixed(1) + ' s';
    if (s < 100) return Math.round(s) + ' s';
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
    const mm = String(m).padStart(h ? 2 : 1, '0') + ':' + String(sec).padStart(2, '0');
    return h ? h + ':' + mm : mm;
  }

  function setStatus(text, cls) {
    ui.status.textContent = text;
    ui.status.className = 'status ' + cls;
  }

  function showError(text) {
    ui.error.textContent = text || '';
    ui.error.hidden = !text;
  }

  // ---- rendering: one row per queue / agent, kept by key, cells rewritten ----

  function syncRows(tbody, list, key, fill, emptyText, cols) {
    const rows = new Map();
    for (const tr of Array.from(tbody.children)) {
      if (tr.dataset.key) rows.set(tr.dataset.key, tr);
      else tr.remove();
    }
    let prev = null;
    for (const x of list) {
      const k = String(key(x));
      let tr = rows.get(k);
      if (tr) rows.delete(k);
      else { tr = document.createElement('tr'); tr.dataset.key = k; }
      tr.replaceChildren();
      fill(tr, x);
      const want = prev ? prev.nextSibling : tbody.firstChild;
      if (want !== tr) tbody.insertBefore(tr, want);
      prev = tr;
    }
    for (const tr of rows.values()) tr.remove();
    if (list.length === 0) {
      const tr = el('tr', 'empty');
      const td = el('td', null, emptyText);
      td.colSpan = cols;
      tr.append(td);
      tbody.append(tr);
    }
  }

  function td(tr, text, cls) {
    const c = el('td', cls, text);
    tr.append(c);
    return c;
  }

  function fillQueue(tr, q) {
    const name = td(tr, q.name);
    if (q.strategy) name.append(el('span', 'sub', q.strategy));
    td(tr, num(q.waiting), 'n').dataset.f = 'waiting';
    td(tr, num(q.offered), 'n').dataset.f = 'offered';
    td(tr, num(q.assigned), 'n').dataset.f = 'assigned';
    const sla = Number(q.sla);
    const old = td(tr, num(q.waiting) ? dur(q.oldest_wait) : '—', 'n');
    old.dataset.f = 'oldest_wait';
    if (num(q.waiting) && Number.isFinite(sla) && num(q.oldest_wait) > sla) {
      old.classList.add('bad');
      old.title = 'waiting longer than the target of ' + dur(sla);
    }
    td(tr, dur(q.avg_speed_of_answer), 'n').dataset.f = 'asa';
    const slc = td(tr, null);
    slc.dataset.f = 'service_level';
    const target = Number.isFinite(sla) ? 'within ' + dur(sla) : '';
    if (q.service_level === null || q.service_level === undefined) {
      slc.append(el('span', 'muted', '— '), el('span', 'sub', 'nothing answered yet' + (target ? '; target: answer ' + target : '')));
    } else {
      const v = Math.max(0, Math.min(1, Number(q.service_level)));
      const m = document.createElement('meter');
      m.min = 0; m.max = 1; m.low = SL_GOAL; m.optimum = 1; m.value = v;
      slc.append(m, el('span', v < SL_GOAL ? 'bad' : 'ok', Math.round(v * 100) + '%'));
      if (target) slc.append(el('span', 'sub', 'answered ' + target));
    }
    td(tr, num(q.arrived), 'n');
    td(tr, num(q.answered), 'n');
    const ab = td(tr, num(q.abandoned), 'n');
    ab.dataset.f = 'abandoned';
    if (num(q.abandoned)) ab.classList.add('bad');
  }

  function fillAgent(tr, a) {
    tr.className = a.connected ? '' : 'offline';
    const name = td(tr, a.name || a.id);
    if (a.name && a.name !== a.id) name.append(el('span', 'sub', a.id));
    td(tr, a.role || 'agent');
    const st = td(tr, null);
    st.dataset.f = 'state';
    st.append(el('span', 'pill ' + cssWord(a.state), a.state || '?'));
    td(tr, a.connected ? 'yes' : 'no').dataset.f = 'connected';
    const load = td(tr, null, 'load');
    load.dataset.f = 'load';
    const l = a.load || {}, c = a.capacity || {};
    ['social', 'chat', 'callback'].forEach((ch, i) => {
      if (i) load.append(' · ');
      const used = num(l[ch]), cap = num(c[ch]);
      load.append(el('span', cap && used >= cap ? 'full' : '', `${used}/${cap}`));
    });
    td(tr, num(a.handled), 'n');
    const tasks = td(tr, null, 'tasks');
    tasks.dataset.f = 'tasks';
    for (const t of Array.isArray(a.tasks) ? a.tasks : []) {
      const p = el('span', 'pill ' + cssWord(t.state), `${t.channel || ''} ${t.state || ''}`.trim());
      p.title = String(t.id);
      p.dataset.task = String(t.id);
      tasks.append(p);
      if (t.channel === 'callback' && t.call) tasks.append(callCell(t));
    }
    if (!tasks.childElementCount) tasks.append(el('span', 'muted', '—'));
  }

  // A callback's call: its state (with the talk time) and, while it is in
  // progress, Hang up ({"type":"hangup"} on this supervisor's socket).
  function callCell(t) {
    const box = el('span', 'call');
    box.dataset.call = String(t.call);
    const since = Number(t.since) || 0;
    let text = 'call: ' + t.call;
    if (t.call === 'talking' && since) text += ' ' + dur((Date.now() - since) / 1000);
    if (t.call === 'ended' && t.outcome) text += ' (' + String(t.outcome).replace('_', ' ') + ')';
    box.append(el('span', 'pill call-' + cssWord(t.call), text));
    if (['dialing', 'ringing', 'talking'].includes(t.call)) {
      const b = el('button', 'hangup', 'Hang up');
      b.type = 'button';
      b.addEventListener('click', () => {
        if (ws && ws.readyState === WebSocket.OPEN) {
          ws.send(JSON.stringify({ type: 'hangup', task: t.id }));
          b.disabled = true;
          b.textContent = 'Hanging up…';
        }
      });
      box.append(b);
    }
    return box;
  }

  function renderCalls(c) {
    if (!ui.calls) return;
    if (!c) { ui.calls.hidden = true; return; }
    ui.calls.hidden = false;
    const f = c.failed || {};
    const failed = Object.keys(f).filter((k) => num(f[k])).map((k) => k.replace('_', ' ') + ' ' + num(f[k]));
    ui.calls.textContent = `Calls: ${num(c.placed)} placed, ${num(c.answered)} answered` +
      (failed.length ? ', ' + failed.join(', ') : '') + `; talk time ${dur(num(c.talk_s))}.`;
  }

  function render(queues, agents, source) {
    queues = Array.isArray(queues) ? queues : [];
    agents = Array.isArray(agents) ? agents.slice() : [];
    agents.sort((x, y) => (y.connected ? 1 : 0) - (x.connected ? 1 : 0) ||
      String(x.name || x.id).localeCompare(String(y.name || y.id)));
    syncRows(ui.queues, queues, (q) => q.name, fillQueue, 'No queues configured.', 10);
    syncRows(ui.agents, agents, (a) => a.id, fillAgent, 'No agents yet.', 7);
    const waiting = queues.reduce((s, q) => s + num(q.waiting), 0);
    const on = agents.filter((a) => a.connected);
    const avail = on.filter((a) => a.state === 'available');
    ui.summary.textContent = `${waiting} waiting in ${queues.length} queue${queues.length === 1 ? '' : 's'}; ` +
      `${on.length} agent${on.length === 1 ? '' : 's'} connected, ${avail.length} available.`;
    lastDataAt = Date.now();
    ui.updated.dataset.source = source;
    ui.updated.textContent = `Updated ${new Date().toLocaleTimeString()} (${source === 'live' ? 'live' : 'polling'}).`;
  }

  // ---- polling fallback ----

  async function poll() {
    if (polling) return;
    polling = true;
    try {
      const opt = { cache: 'no-store', headers: token ? { Authorization: 'Bearer ' + token } : {} };
      const [qr, ar] = await Promise.all([fetch('/api/queues', opt), fetch('/api/agents', opt)]);
      if (qr.status === 401 || ar.status === 401 || qr.status === 403 || ar.status === 403) {
        showError('The server refused this token for /api/queues or /api/agents.');
        return;
      }
      if (!qr.ok || !ar.ok) throw new Error('HTTP ' + (qr.ok ? ar.status : qr.status));
      const [q, a] = await Promise.all([qr.json(), ar.json()]);
      if (Date.now() - lastFrameAt < STALE_MS) return;    // a frame came meanwhile: it is newer
      showError('');
      render(q.queues, a.agents, 'poll');
    } catch (e) {
      showError('Could not read the figures: ' + e.message);
    } finally {
      polling = false;
    }
  }

  function startWatchdog() {
    clearInterval(watchdog);
    watchdog = setInterval(() => {
      if (Date.now() - lastFrameAt > STALE_MS) poll();
    }, POLL_MS);
  }

  // ---- the websocket ----

  function closeSocket() {
    conn++;
    clearTimeout(retryTimer);
    if (ws) { try { ws.close(); } catch (e) { /* closed */ } ws = null; }
  }

  function connect() {
    closeSocket();
    authFailed = false;
    const my = conn;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const sock = new WebSocket(proto + '//' + location.host + '/ws/agent', 'ctx.agent.v1');
    ws = sock;
    setStatus('connecting…', 'down');
    sock.onopen = () => {
      if (my === conn) sock.send(JSON.stringify({ type: 'hello', token, as: 'supervisor' }));
    };
    sock.onmessage = (ev) => {
      if (my !== conn) return;
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (!m || typeof m !== 'object') return;
      if (m.type === 'welcome') {
        const a = m.agent || {};
        if (a.role && a.role !== 'supervisor') {
          denied(`This is ${a.role === 'agent' ? 'an agent' : 'a ' + a.role} token; the supervisor view needs a supervisor token.`);
          return;
        }
        backoff = 500;
        ui.login.hidden = true;
        ui.app.hidden = false;
        ui.logout.hidden = false;
        ui.who.hidden = false;
        ui.who.textContent = a.name || a.id || '';
        setStatus('live', 'live');
        poll();                 // something to show before the first frame
        startWatchdog();
      } else if (m.type === 'queue_stats') {
        lastFrameAt = Date.now();
        showError('');
        render(m.queues, m.agents, 'live');
        renderCalls(m.calls);
      } else if (m.type === 'error') {
        if (m.code === 'auth') denied(m.message ? 'The server did not accept this token: ' + m.message : 'The server did not accept this token.');
        else showError('Server: ' + (m.message || m.code || 'error'));
      }
    };
    sock.onclose = () => {
      if (my !== conn) return;
      if (authFailed) return;
      const wait = Math.round(backoff * (0.75 + Math.random() * 0.5));
      backoff = Math.min(backoff * 2, 15000);
      setStatus('reconnecting in ' + Math.ceil(wait / 1000) + ' s…', 'down');
      retryTimer = setTimeout(connect, wait);
    };
  }

  // ---- login ----

  function denied(message) {
    authFailed = true;
    closeSocket();
    clearInterval(watchdog);
    setStatus('not logged in', 'down');
    showLogin(message);
  }

  function showLogin(message) {
    ui.app.hidden = true;
    ui.logout.hidden = true;
    ui.who.hidden = true;
    ui.login.hidden = false;
    ui.loginError.textContent = message || '';
    ui.token.value = '';
    ui.token.focus();
  }

  // With auth on, /api/queues tells a supervisor token from the others
  // without opening /ws/agent (where an agent token would count as the agent
  // connecting); with auth off it is open and the welcome's role decides.
  async function start() {
    setStatus('checking the token…', 'down');
    try {
      const r = await fetch('/api/queues', { cache: 'no-store', headers: { Authorization: 'Bearer ' + token } });
      if (r.status === 401) { denied('The server did not accept this token.'); return; }
      if (r.status === 403) { denied('This token is not a supervisor\'s; the supervisor view needs a supervisor token.'); return; }
    } catch (e) { /* the server is away: the websocket retries */ }
    connect();
  }

  ui.login.addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = ui.token.value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    ui.loginError.textContent = '';
    start();
  });

  ui.logout.addEventListener('click', () => {
    closeSocket();
    clearInterval(watchdog);
    sessionStorage.removeItem(TOKEN_KEY);
    token = '';
    setStatus('not connected', 'down');
    showLogin('');
  });

  // "Updated … ago" stays honest when the figures stop coming
  setInterval(() => {
    if (!lastDataAt || ui.app.hidden) return;
    const age = Math.round((Date.now() - lastDataAt) / 1000);
    if (age >= 6) ui.updated.textContent = `Last update ${age} s ago.`;
  }, 1000);

  if (token) start();
  else showLogin('');
})();
