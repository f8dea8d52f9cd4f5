// monitor.js -- the live monitor.
//
// On load (and whenever the brand/topic/sentiment/complaints filter changes) it asks
// /api/items for the newest matching items and for those published in the
// last hour, then opens /ws/monitor (subprotocol ctx.monitor.v1), says
// hello with the token if it has one, and sends the filter with since = the
// stream id /api/items read before its query, so nothing falls in between.
// After a dropped connection it reconnects with backoff and resumes after
// the last stream id it received.
//
// Language and network are filtered here in the page (the server does not
// know them as filters); brand, topic, sentiment and "complaints only" are
// filtered by the server (/api/items?complaint=true, so a reload finds
// complaints older than the newest page) and checked again here (the
// websocket has no complaint filter: it sends them all). An item is a
// complaint when its tags say complaint.label true; its reasons show next to
// the badge.
//
// Spike alerts (docs/alerts.md) are shown above the list, newest first: the
// recent ones from GET /api/alerts on load, then each {"type":"alert"} frame
// the websocket pushes (whatever the filter), at once. Each links to /trends/
// for its series, by the minute, around its time.
//
// Speed: frames only queue items; the DOM is touched once per animation
// frame, at most MAX_SHOWN nodes are on the page (the oldest are dropped),
// and a batch larger than that replaces the list at once.
//
// Safety: every piece of item data reaches the page through textContent or
// an attribute set from script (href only for http/https URLs), never as
// HTML.
'use strict';
(() => {
  const MAX_SHOWN = 300;          // list nodes on the page
  const KEEP = 2000;              // items kept in memory, to re-filter locally
  const HOUR = 3600 * 1000;
  const TOKEN_KEY = 'ctx.token';
  const LABELS = ['negative', 'neutral', 'positive'];
  const MAX_ALERTS = 20;          // alerts shown

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $('status'), list: $('items'), held: $('held'), error: $('error'), empty: $('empty'),
    form: $('filter'), brand: $('brand'), topic: $('topic'), sentiment: $('sentiment'),
    lang: $('lang'), network: $('network'), complaints: $('complaints'), pause: $('pause'), app: $('app'),
    login: $('login'), token: $('token'), loginError: $('login-error'), logout: $('logout'),
    brands: $('brands'), topics: $('topics'), alerts: $('alerts'), alertList: $('alert-list'),
    n: { negative: $('n-negative'), neutral: $('n-neutral'), positive: $('n-positive'),
      received: $('n-received'), shown: $('n-shown') },
  };

  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  let server = { brand: '', topic: '', sentiment: '', complaints: false };   // filtered by ctxd
  let local = { lang: '', network: '' };                                    // filtered here
  let lastId = null;              // last stream id received (or read by /api/items)
  let ws = null;
  let conn = 0;                   // generation: frames of an older socket are ignored
  let backoff = 500;
  let retryTimer = null;
  let pingTimer = null;
  let authFailed = false;
  let paused = false;

  let recent = [];                // received items, oldest first (at most ~KEEP)
  let pending = [];               // matching items not yet on the page, oldest first
  let held = 0;                   // matching items received while paused
  let received = 0;
  const ids = new Set();          // ids received (bounded), to drop repeats
  const hour = new Map();         // id -> {t, label, _lang, _net} for the last-hour counters
  const counts = { negative: 0, neutral: 0, positive: 0 };
  let countsCapped = false;       // the last-hour query hit its limit: counts are lower bounds
  const seen = { brand: new Set(), topic: new Set(), lang: new Set(), network: new Set() };
  let optionsDirty = false;
  let scheduled = false;
  let rebuildAll = false;
  let alerts = [];                // spike alerts, newest first (at most MAX_ALERTS)

  // ---- helpers ----

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null && text !== '') e.textContent = String(text);
    return e;
  }

  const network = (item) => String(item.id).split(':', 1)[0];
  const labelOf = (item) => {
    const l = (((item.tags || {}).sentiment) || {}).label;
    return LABELS.includes(l) ? l : 'neutral';
  };
  const list = (v) => (Array.isArray(v) ? v : []);
  const complaintOf = (item) => ((item.tags || {}).complaint) || {};

  // The time an item counts at: published, else fetched, else when it arrived
  // here; never later than now (a clock ahead of ours).
  function timeOf(item) {
    const now = Date.now();
    let t = Date.parse(item.published);
    if (Number.isNaN(t)) t = Date.parse(item.fetched);
    if (Number.isNaN(t)) t = now;
    return Math.min(t, now);
  }

  function sidLess(a, b) {          // stream ids "ms-seq"
    const [am, as] = a.split('-').map(Number);
    const [bm, bs] = b.split('-').map(Number);
    return am < bm || (am === bm && as < bs);
  }

  function matchesServer(item) {
    const t = item.tags || {};
    if (server.brand && !list(t.brands).includes(server.brand)) return false;
    if (server.topic && !list(t.topics).includes(server.topic)) return false;
    if (server.sentiment && labelOf(item) !== server.sentiment) return false;
    if (server.complaints && complaintOf(item).label !== true) return false;
    return true;
  }

  function matchesLocal(rec) {      // rec: an item or an hour record (both have _lang/_net)
    if (local.lang && rec._lang !== local.lang) return false;
    if (local.network && rec._net !== local.network) return false;
    return true;
  }

  function rememberId(id) {
    ids.add(id);
    if (ids.size > KEEP * 4) {      // forget the oldest half (a Set keeps insertion order)
      let drop = ids.size - KEEP * 2;
      for (const x of ids) { if (drop-- <= 0) break; ids.delete(x); }
    }
  }

  function setStatus(text, cls) {
    ui.status.textContent = text;
    ui.status.className = 'status ' + cls;
  }

  function showError(text) {
    ui.error.textContent = text || '';
    ui.error.hidden = !text;
  }

  function headers() {
    return token ? { Authorization: 'Bearer ' + token } : {};
  }

  // ---- rendering ----

  function fmtTime(t) {
    const d = new Date(t);
    const today = new Date().toDateString() === d.toDateString();
    return today ? d.toLocaleTimeString() : d.toLocaleString();
  }

  function render(item, fresh) {
    const tags = item.tags || {};
    const s = tags.sentiment || {};
    const label = labelOf(item);
    const li = el('li', label + (item._complaint ? ' complaint' : '') +
      (tags.duplicate_of ? ' duplicate' : '') + (fresh ? ' fresh' : ''));
    li.dataset.id = item.id;
    const meta = el('div', 'meta');
    meta.append(el('span', 'tag net', item._net));
    if (item.kind) meta.append(el('span', 'kind', item.kind));
    if (item.source) meta.append(el('span', 'source', item.source));
    const a = item.author || {};
    if (a.name || a.handle) {
      const who = el('span', 'author', a.name || a.handle);
      if (a.name && a.handle) who.title = a.handle;
      meta.append(who);
      if (Number.isFinite(a.followers) && a.followers > 0)
        meta.append(el('span', 'followers', a.followers.toLocaleString() + ' followers'));
    }
    const time = el('time', 'time', fmtTime(item._t));
    time.dateTime = new Date(item._t).toISOString();
    time.title = item.published ? 'published ' + item.published : 'fetched ' + (item.fetched || '');
    meta.append(time);
    if (item._lang) meta.append(el('span', 'lang', item._lang));
    const score = Number(s.score);
    meta.append(el('span', 'score ' + label,
      label + (Number.isFinite(score) ? ' ' + score.toFixed(2) : '')));
    for (const b of list(tags.brands)) meta.append(el('span', 'tag brand', b));
    for (const t of list(tags.topics)) meta.append(el('span', 'tag', t));
    if (tags.urgent) meta.append(el('span', 'tag urgent', 'urgent'));
    if (item._complaint) {
      const c = complaintOf(item);
      const badge = el('span', 'tag complaint', 'complaint');
      const cs = Number(c.score);
      if (Number.isFinite(cs)) badge.title = 'complaint score ' + cs.toFixed(2);
      meta.append(badge);
      const reasons = list(c.reasons).filter((r) => typeof r === 'string' && r);
      if (reasons.length) {
        const box = el('span', 'reasons');
        box.title = 'why it is a complaint';
        for (const r of reasons) box.append(el('span', 'reason', r));
        meta.append(box);
      }
    }
    if (tags.duplicate_of) {
      const d = el('span', 'dup', 'duplicate');
      d.title = 'near-duplicate of ' + tags.duplicate_of;
      meta.append(d);
    }
    li.append(meta);
    const url = typeof item.url === 'string' && /^https?:\/\//i.test(item.url) ? item.url : null;
    if (item.title || url) {
      const title = el('div', 'title');
      if (url) {
        const link = el('a', null, item.title || url);
        link.href = url;
        link.rel = 'noopener noreferrer';
        link.target = '_blank';
        title.append(link);
      } else {
        title.textContent = item.title;
      }
      li.append(title);
    }
    if (item.text) li.append(el('div', 'text', item.text));
    return li;
  }

  function showCounts() {
    const plus = countsCapped ? '+' : '';
    for (const l of LABELS) ui.n[l].textContent = counts[l] + plus;
    ui.n.received.textContent = received;
    ui.n.shown.textContent = ui.list.childElementCount;
    ui.empty.hidden = ui.list.childElementCount > 0;
    if (paused) {
      ui.held.hidden = false;
      ui.held.textContent = held === 0 ? 'Paused: new mentions are held until you resume.'
        : `Paused: ${held} new mention${held === 1 ? '' : 's'} held; resume to see ${held > MAX_SHOWN ? 'the newest ' + MAX_SHOWN : 'them'}.`;
    } else {
      ui.held.hidden = true;
    }
  }

  function fillOptions() {
    optionsDirty = false;
    const fill = (container, values, isSelect) => {
      const have = new Set(Array.from(container.children, (o) => o.value));
      const sorted = Array.from(values).sort();
      for (const v of sorted) {
        if (have.has(v)) continue;
        const o = document.createElement('option');
        o.value = v;
        if (isSelect) o.textContent = v;
        container.append(o);
      }
    };
    fill(ui.brands, seen.brand, false);
    fill(ui.topics, seen.topic, false);
    fill(ui.lang, seen.lang, true);
    fill(ui.network, seen.network, true);
  }

  // One DOM update per animation frame.
  function schedule() {
    if (!scheduled) { scheduled = true; requestAnimationFrame(flush); }
  }

  function flush() {
    scheduled = false;
    if (optionsDirty) fillOptions();
    if (rebuildAll) {
      rebuildAll = false;
      pending = [];
      const frag = document.createDocumentFragment();
      let n = 0;
      for (let i = recent.length - 1; i >= 0 && n < MAX_SHOWN; i--)
        if (matchesLocal(recent[i])) { frag.append(render(recent[i], false)); n++; }
      ui.list.replaceChildren(frag);
    } else if (!paused && pending.length) {
      const batch = pending.length > MAX_SHOWN ? pending.slice(-MAX_SHOWN) : pending;
      pending = [];
      held = 0;
      const fresh = batch.length <= 20;
      const frag = document.createDocumentFragment();
      for (let i = batch.length - 1; i >= 0; i--) frag.append(render(batch[i], fresh));
      if (batch.length >= MAX_SHOWN) {
        ui.list.replaceChildren(frag);
      } else {
        ui.list.prepend(frag);
        for (let extra = ui.list.childElementCount - MAX_SHOWN; extra > 0; extra--)
          ui.list.lastElementChild.remove();
      }
    }
    showCounts();
  }

  // ---- items ----

  function countIn(rec, d) {
    if (matchesLocal(rec)) counts[rec.label] += d;
  }

  function recount() {
    const cutoff = Date.now() - HOUR;
    for (const l of LABELS) counts[l] = 0;
    for (const [id, rec] of hour) {
      if (rec.t < cutoff) hour.delete(id);
      else countIn(rec, 1);
    }
  }

  function receive(item) {
    if (!item || typeof item !== 'object' || typeof item.id !== 'string' || ids.has(item.id)) return;
    rememberId(item.id);
    if (!matchesServer(item)) return;   // a frame sent for an older filter
    item._net = network(item);
    item._lang = typeof item.lang === 'string' ? item.lang.toLowerCase() : '';
    item._t = timeOf(item);
    item._complaint = complaintOf(item).label === true;
    received++;
    const tags = item.tags || {};
    const label = labelOf(item);
    if (item._t >= Date.now() - HOUR) {
      const rec = { t: item._t, label, _lang: item._lang, _net: item._net };
      hour.set(item.id, rec);
      countIn(rec, 1);
    }
    const note = (set, v) => {
      if (typeof v === 'string' && v && set.size < 500 && !set.has(v)) { set.add(v); optionsDirty = true; }
    };
    for (const b of list(tags.brands)) note(seen.brand, b);
    for (const t of list(tags.topics)) note(seen.topic, t);
    note(seen.lang, item._lang);
    note(seen.network, item._net);
    recent.push(item);
    if (recent.length > KEEP * 1.5) recent = recent.slice(-KEEP);
    if (matchesLocal(item)) {
      pending.push(item);
      if (paused) held++;
      if (pending.length > MAX_SHOWN * 2) pending = pending.slice(-MAX_SHOWN);
    }
    schedule();
  }

  // ---- spike alerts ----

  // "YYYY-MM-DDTHH:MM" in the browser's clock, as /trends/ reads from= and to=
  function localMinute(ms) {
    const d = new Date(ms);
    return new Date(ms - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }

  // /trends/ for the alert's series, by the minute, from half an hour
  // before its window to half an hour after (not past now)
  function trendsLink(a, start, at) {
    const to = Math.min(at + 31 * 60000, Date.now());
    const p = new URLSearchParams({ series: a.series, range: 'custom', from: localMinute(start - 30 * 60000),
      to: localMinute(Math.max(to, at + 60000)), bucket: 'minute' });
    return '/trends/?' + p;
  }

  function alertNode(a, fresh) {
    const li = el('li', 'alert' + (fresh ? ' fresh' : ''));
    li.dataset.id = a.id;
    li.dataset.series = a.series;
    const at = Date.parse(a.at);
    const win = Number(a.window) > 0 ? Number(a.window) : 1;
    const start = at - (win - 1) * 60000;          // the window ends with the minute judged
    li.append(el('span', 'series', a.series));
    const exp = Number(a.expected);
    li.append(el('span', 'figures', `${a.count} in ${win} min vs baseline ${Number.isFinite(exp) ? exp.toFixed(1) : '?'}` +
      (Number.isFinite(Number(a.score)) ? ` (z ${Number(a.score).toFixed(1)})` : '')));
    const since = el('time', 'time', 'since ' + fmtTime(start));
    since.dateTime = new Date(start).toISOString();
    li.append(since);
    if (a.text) li.append(el('span', 'muted', a.text));
    const link = el('a', 'trends', 'see in trends');
    link.href = trendsLink(a, start, at);
    li.append(link);
    return li;
  }

  function addAlerts(list, freshOnes) {
    const known = new Set(alerts.map((a) => a.id));
    let added = false;
    for (const a of list) {
      if (!a || typeof a.id !== 'string' || typeof a.series !== 'string' || known.has(a.id)) continue;
      if (Number.isNaN(Date.parse(a.at))) continue;
      known.add(a.id);
      alerts.push(a);
      added = true;
    }
    if (!added) return;
    alerts.sort((x, y) => (sidLess(x.id, y.id) ? 1 : sidLess(y.id, x.id) ? -1 : 0));
    alerts = alerts.slice(0, MAX_ALERTS);
    const fresh = new Set(freshOnes ? list.map((a) => a && a.id) : []);
    ui.alertList.replaceChildren(...alerts.map((a) => alertNode(a, fresh.has(a.id))));
    ui.alerts.hidden = false;
  }

  async function loadAlerts() {
    try {
      const r = await fetch('/api/alerts?limit=' + MAX_ALERTS, { cache: 'no-store', headers: headers() });
      if (!r.ok) return;                // an older server, or no token yet: /api/items says so
      const body = await r.json();
      addAlerts(list(body && body.alerts), false);
    } catch (e) { /* the live frames still come */ }
  }

  // ---- loading and the websocket ----

  function resetData() {
    recent = [];
    pending = [];
    held = 0;
    received = 0;
    ids.clear();
    hour.clear();
    for (const l of LABELS) counts[l] = 0;
    countsCapped = false;
    lastId = null;
    ui.list.replaceChildren();
  }

  async function getItems(params) {
    const p = new URLSearchParams(params);
    if (server.brand) p.set('brand', server.brand);
    if (server.topic) p.set('topic', server.topic);
    if (server.sentiment) p.set('sentiment', server.sentiment);
    if (server.complaints) p.set('complaint', 'true');
    const r = await fetch('/api/items?' + p, { cache: 'no-store', headers: headers() });
    if (r.status === 401 || r.status === 403) {
      const e = new Error('auth');
      e.auth = true;
      throw e;
    }
    if (!r.ok) throw new Error('/api/items: HTTP ' + r.status);
    return r.json();
  }

  async function load() {
    closeSocket();
    resetData();
    authFailed = false;
    showError('');
    setStatus('loading…', 'down');
    const myConn = conn;
    const since = new Date(Date.now() - HOUR).toISOString().replace(/\.\d+Z$/, 'Z');
    loadAlerts();
    try {
      const [newest, lastHour] = await Promise.all([
        getItems({ limit: String(MAX_SHOWN) }),
        getItems({ limit: '1000', since }),
      ]);
      if (myConn !== conn) return;      // a newer load started meanwhile
      // both last_ids were read before their queries: the smaller is a safe resume point
      const a = newest.last_id, b = lastHour.last_id;
      lastId = a && b ? (sidLess(a, b) ? a : b) : (a || b || null);
      countsCapped = list(lastHour.items).length >= 1000;
      const all = list(newest.items).concat(list(lastHour.items));
      all.sort((x, y) => timeOf(x) - timeOf(y));
      for (const item of all) receive(item);
      pending = [];
      rebuildAll = true;
      schedule();
    } catch (e) {
      if (myConn !== conn) return;
      if (e.auth) { needToken(token ? 'The server did not accept this token.' : ''); return; }
      showError('Could not load recent mentions (' + e.message + '); showing new ones only.');
    }
    connect();
  }

  function closeSocket() {
    conn++;
    clearTimeout(retryTimer);
    clearInterval(pingTimer);
    if (ws) {
      try { ws.close(); } catch (e) { /* already closed */ }
      ws = null;
    }
  }

  function connect() {
    closeSocket();
    const my = conn;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const sock = new WebSocket(proto + '//' + location.host + '/ws/monitor', 'ctx.monitor.v1');
    ws = sock;
    setStatus('connecting…', 'down');
    sock.onopen = () => {
      if (my !== conn) return;
      if (token) sock.send(JSON.stringify({ type: 'hello', token }));
      const f = { type: 'filter', brands: server.brand ? [server.brand] : [],
        topics: server.topic ? [server.topic] : [], sentiment: server.sentiment || null };
      if (lastId) f.since = lastId;
      sock.send(JSON.stringify(f));
      setStatus(paused ? 'live · paused' : 'live', paused ? 'paused' : 'live');
      pingTimer = setInterval(() => {
        if (sock.readyState === WebSocket.OPEN) sock.send('{"type":"ping"}');
      }, 30000);
    };
    sock.onmessage = (ev) => {
      if (my !== conn) return;
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (!m || typeof m !== 'object') return;
      backoff = 500;
      if (m.type === 'item') {
        if (typeof m.id === 'string') lastId = m.id;
        receive(m.item);
      } else if (m.type === 'alert') {
        addAlerts([m.alert], true);
      } else if (m.type === 'error') {
        if (m.code === 'auth') {
          authFailed = true;
          needToken(token ? 'The server did not accept this token: ' + (m.message || '') : '');
        } else if (m.code !== 'unknown_type') {   // an older server answering hello
          showError('Server: ' + (m.message || m.code || 'error'));
        }
      }
    };
    sock.onclose = () => {
      if (my !== conn) return;
      clearInterval(pingTimer);
      if (authFailed) { setStatus('token needed', 'down'); return; }
      const wait = Math.round(backoff * (0.75 + Math.random() * 0.5));
      backoff = Math.min(backoff * 2, 15000);
      setStatus('reconnecting in ' + Math.ceil(wait / 1000) + ' s…', 'down');
      retryTimer = setTimeout(connect, wait);
    };
  }

  // ---- token ----

  function needToken(message) {
    closeSocket();
    setStatus('token needed', 'down');
    ui.app.hidden = true;
    ui.login.hidden = false;
    ui.loginError.textContent = message || '';
    ui.token.value = '';
    ui.token.focus();
  }

  ui.login.addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = ui.token.value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    ui.login.hidden = true;
    ui.app.hidden = false;
    ui.logout.hidden = false;
    load();
  });

  ui.logout.addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    token = '';
    ui.logout.hidden = true;
    load();
  });

  // ---- filters and pause ----

  function readForm() {
    const v = (e) => e.value.trim().toLowerCase();
    return {
      server: { brand: v(ui.brand), topic: v(ui.topic), sentiment: ui.sentiment.value,
        complaints: ui.complaints.checked },
      local: { lang: ui.lang.value, network: ui.network.value },
    };
  }

  function saveToUrl() {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(Object.assign({}, server, local))) if (v) p.set(k, v);
    const q = p.toString();
    history.replaceState(null, '', location.pathname + (q ? '?' + q : ''));
  }

  function apply() {
    const f = readForm();
    const serverChanged = JSON.stringify(f.server) !== JSON.stringify(server);
    const localChanged = JSON.stringify(f.local) !== JSON.stringify(local);
    server = f.server;
    local = f.local;
    saveToUrl();
    if (serverChanged) {
      load();
    } else if (localChanged) {
      recount();
      rebuildAll = true;
      schedule();
    }
  }

  ui.form.addEventListener('submit', (ev) => { ev.preventDefault(); apply(); });
  for (const e of [ui.sentiment, ui.lang, ui.network, ui.complaints]) e.addEventListener('change', apply);

  function setPaused(p) {
    paused = p;
    ui.pause.textContent = p ? 'Resume' : 'Pause';
    ui.pause.setAttribute('aria-pressed', String(p));
    if (ws && ws.readyState === WebSocket.OPEN)
      setStatus(p ? 'live · paused' : 'live', p ? 'paused' : 'live');
    schedule();
  }
  ui.pause.addEventListener('click', () => setPaused(!paused));

  // the last-hour counters slide: drop what has aged out every few seconds
  setInterval(() => { recount(); schedule(); }, 5000);

  // ---- start ----
  {
    const p = new URLSearchParams(location.search);
    const get = (k) => (p.get(k) || '').trim().toLowerCase();
    server = { brand: get('brand'), topic: get('topic'), sentiment: LABELS.includes(get('sentiment')) ? get('sentiment') : '',
      complaints: ['1', 'true'].includes(get('complaints')) };
    local = { lang: get('lang'), network: get('network') };
    ui.complaints.checked = server.complaints;
    ui.brand.value = server.brand;
    ui.topic.value = server.topic;
    ui.sentiment.value = server.sentiment;
    for (const [k, sel] of [['lang', ui.lang], ['network', ui.network]]) {
      if (local[k]) {
        seen[k].add(local[k]);
        const o = document.createElement('option');
        o.value = o.textContent = local[k];
        sel.append(o);
        sel.value = local[k];
      }
    }
    ui.logout.hidden = !token;
    load();
  }
})();
