// Live monitor: the newest items from /api/items, then every newly tagged
// item from /ws/monitor (subprotocol ctx.monitor.v1), resuming after the
// last stream id seen so a reconnect misses nothing. All item text goes
// into the page through textContent, never as HTML.
'use strict';

const MAX_SHOWN = 500;
const list = document.getElementById('items');
const statusEl = document.getElementById('status');
const seen = new Set();           // item ids on the page
const counts = { positive: 0, neutral: 0, negative: 0 };
let lastId = null;                // last stream id received
let ws = null;
let paused = false;
let pending = [];                 // items waiting for the next frame (or resume)
let filter = { brands: [], topics: [], sentiment: '' };
let backoff = 500;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function render(item) {
  const tags = item.tags || {};
  const s = tags.sentiment || { label: 'neutral', score: 0 };
  const li = el('li', s.label);
  li.dataset.id = item.id;
  const meta = el('div', 'meta');
  meta.append(el('span', 'source', item.source));
  if (item.author && (item.author.name || item.author.handle))
    meta.append(el('span', 'author', item.author.name || item.author.handle));
  meta.append(el('span', 'time', item.published || ''));
  meta.append(el('span', 'score ' + s.label, s.label + ' ' + Number(s.score).toFixed(2)));
  for (const b of tags.brands || []) meta.append(el('span', 'tag brand', b));
  for (const t of tags.topics || []) meta.append(el('span', 'tag', t));
  if (tags.urgent) meta.append(el('span', 'tag urgent', 'urgent'));
  li.append(meta);
  if (item.title) {
    const title = el('div', 'title');
    if (item.url && /^https?:\/\//i.test(item.url)) {
      const a = el('a', null, item.title);
      a.href = item.url;
      a.rel = 'noopener noreferrer';
      a.target = '_blank';
      title.append(a);
    } else {
      title.textContent = item.title;
    }
    li.append(title);
  }
  li.append(el('div', 'text', item.text || ''));
  return li;
}

function count(item, d) {
  const l = ((item.tags || {}).sentiment || {}).label || 'neutral';
  counts[l] += d;
}

function showCounts() {
  document.getElementById('n-shown').textContent = list.children.length;
  for (const k of Object.keys(counts))
    document.getElementById('n-' + k).textContent = counts[k];
}

// Batch DOM work: at most one update per animation frame.
let scheduled = false;
function flush() {
  scheduled = false;
  if (paused || pending.length === 0) return;
  const frag = document.createDocumentFragment();
  const batch = pending;
  pending = [];
  for (let i = batch.length - 1; i >= 0; i--) frag.append(render(batch[i]));
  list.prepend(frag);
  while (list.children.length > MAX_SHOWN) {
    const gone = list.lastElementChild;
    seen.delete(gone.dataset.id);
    list.removeChild(gone);
  }
  showCounts();
}

function add(item, atTop) {
  if (!item || !item.id || seen.has(item.id)) return;
  seen.add(item.id);
  count(item, +1);
  if (atTop) {
    pending.push(item);
    if (!scheduled) { scheduled = true; requestAnimationFrame(flush); }
  } else {
    list.append(render(item));
  }
}

function setStatus(text, cls) {
  statusEl.textContent = text;
  statusEl.className = 'status ' + cls;
}

function query() {
  const p = new URLSearchParams({ limit: '50' });
  if (filter.brands[0]) p.set('brand', filter.brands[0]);
  if (filter.topics[0]) p.set('topic', filter.topics[0]);
  if (filter.sentiment) p.set('sentiment', filter.sentiment);
  return '/api/items?' + p;
}

async function load() {
  list.replaceChildren();
  seen.clear();
  pending = [];
  for (const k of Object.keys(counts)) counts[k] = 0;
  try {
    const r = await fetch(query(), { cache: 'no-store' });
    const body = await r.json();
    for (const item of body.items || []) add(item, false);
    lastId = body.last_id || null;   // read before the items: resuming here has no gap
  } catch (e) {
    lastId = null;
  }
  showCounts();
  connect();
}

function sendFilter() {
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  const msg = { type: 'filter', brands: filter.brands, topics: filter.topics,
                sentiment: filter.sentiment || null };
  if (lastId) msg.since = lastId;
  ws.send(JSON.stringify(msg));
}

function connect() {
  if (ws) { ws.onclose = null; ws.close(); }
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  ws = new WebSocket(proto + '//' + location.host + '/ws/monitor', 'ctx.monitor.v1');
  ws.onopen = () => { backoff = 500; setStatus('live', 'live'); sendFilter(); };
  ws.onmessage = (ev) => {
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    if (m.type === 'item') { lastId = m.id; add(m.item, true); }
    else if (m.type === 'error') console.warn('monitor:', m.code, m.message);
  };
  ws.onclose = () => {
    setStatus('reconnecting…', 'down');
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
  };
}

document.getElementById('filter').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const v = (id) => document.getElementById(id).value.trim();
  filter = {
    brands: v('brand') ? [v('brand').toLowerCase()] : [],
    topics: v('topic') ? [v('topic').toLowerCase()] : [],
    sentiment: v('sentiment'),
  };
  load();
});

document.getElementById('pause').addEventListener('click', (ev) => {
  paused = !paused;
  ev.target.textContent = paused ? 'Resume' : 'Pause';
  if (!paused) flush();
});

load();
