// trends.js -- the trends page, for marketers.
//
// Everything comes from GET /api/trends and GET /api/trends/top
// (docs/trends.md): the chosen series as stacked positive / negative /
// neutral bars with a complaint line, share of voice for the ticked brands,
// and the top and growing names of a dimension. The brand and topic pickers
// are filled from /api/trends/top over the last 30 days.
//
// The range is relative (24 h, 7 d, 30 d: ending now) or custom (from/to in
// the browser's clock); the buckets are aligned by ctxd in the time zone
// sent as tz= (the browser's by default). Live: a relative range is asked
// again every 30 s (POLL_MS), which moves its end to now and refreshes the
// current bucket; polling rather than following /ws/monitor, because the
// counters are what the analyzer wrote (the same numbers the API and
// ctxctl give), not a recount of the items the page happens to see.
//
// Spike alerts (docs/alerts.md): GET /api/alerts since the range's start,
// asked with the rest (so the 30 s poll refreshes them), listed in the
// Alerts panel and marked on the chart as a line dataset of points only (▼
// on top of the bar of the bucket each alert's minute falls in), for the
// alerts of the series shown. No annotation plugin: Debian ships Chart.js
// alone.
//
// A click on a bar lists the mentions behind it: /api/items with the
// series' filter and since = the bucket's start, kept here when published
// before the bucket's end (/api/items has no "until"), with links to the
// live monitor filtered the same way and to that JSON.
//
// Safety: item data reaches the page through textContent only.
'use strict';
(() => {
  const POLL_MS = 30000;
  const TOKEN_KEY = 'ctx.token';
  const RANGES = { '24h': 86400, '7d': 7 * 86400, '30d': 30 * 86400 };
  const DEFAULT_BUCKET = { '24h': 'hour', '7d': 'hour', '30d': 'day', custom: 'hour' };
  const BUCKET_S = { minute: 60, hour: 3600, day: 86400 };
  const SOV_MAX = 6;                // brands ticked by default
  const COLORS = { positive: '#12b76a', negative: '#f04438', neutral: '#98a2b3', complaint: '#b54708',
    count: '#2e90fa', alert: '#d92d20' };
  const PALETTE = ['#175cd3', '#f79009', '#7a5af8', '#12b76a', '#ee46bc', '#0e9384', '#667085', '#b42318'];

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $('status'), error: $('error'), app: $('app'), login: $('login'), token: $('token'),
    loginError: $('login-error'), logout: $('logout'), form: $('controls'), series: $('series'),
    custom: $('custom'), from: $('from'), to: $('to'), bucket: $('bucket'), tz: $('tz'), zones: $('zones'),
    rangeNote: $('range-note'), totals: document.querySelector('#totals tbody'),
    sovBrands: $('sov-brands'), sovTable: document.querySelector('#sov-table tbody'), dim: $('dim'),
    topVolume: document.querySelector('#top-volume tbody'), topGrowth: document.querySelector('#top-growth tbody'),
    itemsPanel: $('items-panel'), itemsWhat: $('items-what'), itemsMonitor: $('items-monitor'),
    itemsApi: $('items-api'), itemsNote: $('items-note'), items: $('items'),
    alerts: document.querySelector('#alerts tbody'),
  };
  const browserTz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  const state = { series: 'all', range: '24h', from: '', to: '', bucket: 'hour', tz: browserTz, sov: [], dim: 'topic' };
  let sovChosen = false;            // the user (or the URL) chose the brands
  let knownBrands = [];
  let charts = { volume: null, sov: null };
  let main = null;                  // the last answer for the chosen series: {from, to, points}
  let gen = 0;                      // a newer load makes older answers stale
  let pollTimer = null;

  // ---- helpers ----

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null && text !== '') e.textContent = String(text);
    return e;
  }
  const headers = () => (token ? { Authorization: 'Bearer ' + token } : {});
  const fmtN = (n) => Number(n || 0).toLocaleString('en');
  const pct = (x) => (100 * x).toFixed(1) + '%';

  function setStatus(text, cls) {
    ui.status.textContent = text;
    ui.status.className = 'status ' + cls;
  }
  function showError(msg) {
    ui.error.textContent = msg;
    ui.error.hidden = !msg;
  }

  class ApiError extends Error {
    constructor(status, body) {
      super(body && body.message ? body.message : 'HTTP ' + status);
      this.status = status;
      this.auth = status === 401 || status === 403;
    }
  }

  async function api(path, params) {
    const r = await fetch(path + '?' + new URLSearchParams(params), { cache: 'no-store', headers: headers() });
    let body = null;
    try { body = await r.json(); } catch (e) { /* not JSON */ }
    if (!r.ok) throw new ApiError(r.status, body);
    return body;
  }

  // [from, to] in epoch seconds for the chosen range
  function span() {
    if (state.range === 'custom') {
      const f = Date.parse(state.from), t = Date.parse(state.to);
      if (Number.isNaN(f) || Number.isNaN(t) || f >= t) return null;
      return { from: Math.floor(f / 1000), to: Math.floor(t / 1000) };
    }
    const now = Math.floor(Date.now() / 1000);
    return { from: now - RANGES[state.range], to: now };
  }

  // "2026-12-03T09:00:00+03:00" -> a short label in the zone's own time
  function label(t) {
    const day = t.slice(0, 10), hm = t.slice(11, 16);
    if (state.bucket === 'day') return day;
    const s = span();
    return s && s.to - s.from > 86400 ? day.slice(5) + ' ' + hm : hm;
  }

  const seriesFilter = (series) => {
    const i = series.indexOf(':');
    const dim = i < 0 ? series : series.slice(0, i), name = series.slice(i + 1);
    if (dim === 'brand' || dim === 'topic') return { [dim]: name };
    if (dim === 'reason') return { complaint: 'true', reason: name };
    if (dim === 'complaint' && name.lastIndexOf('/') > 0) {     // complaint:<brand>/<reason>
      const k = name.lastIndexOf('/');
      return { complaint: 'true', brand: name.slice(0, k), reason: name.slice(k + 1) };
    }
    return {};
  };

  // ---- charts ----

  function chartOf(id, config) {
    if (charts[id]) {
      charts[id].data = config.data;
      charts[id].update('none');
    } else {
      charts[id] = new Chart($(id), config);
    }
  }

  // the alerts of series on the chart: per bucket, the bar's top (or null)
  // and the alerts' texts
  function alertMarks(series, points, alerts) {
    const y = points.map(() => null), texts = points.map(() => []);
    const starts = points.map((p) => Date.parse(p.t));
    for (const a of alerts) {
      if (a.series !== series) continue;
      const at = Date.parse(a.at);
      let i = starts.length - 1;
      while (i >= 0 && starts[i] > at) i--;
      if (i < 0) continue;
      y[i] = points[i].count;
      texts[i].push(a.text || `${a.count} in ${a.window} min, baseline ${a.expected}`);
    }
    return { y, texts };
  }

  function drawVolume(points, alerts) {
    const split = points.some((p) => p.positive + p.negative + p.neutral > 0) ||
      !points.some((p) => p.count > 0);
    const bars = (key) => ({ type: 'bar', label: key, data: points.map((p) => p[key]), backgroundColor: COLORS[key],
      stack: 'count', order: 2 });
    const datasets = split ? ['negative', 'neutral', 'positive'].map(bars) : [bars('count')];
    datasets.push({ type: 'line', label: 'complaints', data: points.map((p) => p.complaint),
      borderColor: COLORS.complaint, backgroundColor: COLORS.complaint, pointRadius: 2, tension: 0.2, order: 1 });
    const marks = alertMarks(main.series, points, alerts);
    if (marks.y.some((v) => v !== null)) {
      datasets.push({ type: 'line', label: 'alerts', data: marks.y, stack: 'alerts', showLine: false, order: 0,
        pointStyle: 'triangle', rotation: 180, pointRadius: 8, pointHoverRadius: 9,
        borderColor: COLORS.alert, backgroundColor: COLORS.alert });
    }
    chartOf('volume', {
      type: 'bar',
      data: { labels: points.map((p) => label(p.t)), datasets },
      options: {
        maintainAspectRatio: false, animation: false,
        interaction: { mode: 'index', intersect: false },
        scales: { x: { stacked: true, ticks: { autoSkip: true, maxRotation: 0 } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 },
            grace: datasets.some((d) => d.label === 'alerts') ? '8%' : 0 } },     // room for ▼ over the top bar
        plugins: { tooltip: { callbacks: {
          label: (c) => (c.dataset.label === 'alerts' ? 'alert: ' + marks.texts[c.dataIndex].join('; ')
            : `${c.dataset.label}: ${c.formattedValue}`),
          footer: (items) => items.length
          ? 'total ' + points[items[0].dataIndex].count + ' · click for the mentions' : '' } } },
        onClick: (ev, active, chart) => {
          const hit = chart.getElementsAtEventForMode(ev, 'index', { intersect: false }, false);
          if (hit.length) showItems(hit[0].index);
        },
      },
    });
  }

  function drawAlerts(alerts) {
    const rows = alerts.map((a) => {
      const tr = el('tr', a.series === state.series ? 'shown' : '');
      tr.dataset.id = a.id;
      tr.dataset.series = a.series;
      const when = el('td', 'time', localTime(a.at).slice(0, 16));
      when.title = a.at;
      const name = el('td');
      const link = el('a', null, a.series);
      link.href = '#';
      link.title = 'show ' + a.series + ' above';
      link.addEventListener('click', (ev) => { ev.preventDefault(); pickSeries(a.series); });
      name.append(link);
      const num = (x, d) => (Number.isFinite(Number(x)) ? Number(x).toFixed(d) : '–');
      tr.append(when, name, el('td', 'n', fmtN(a.count)), el('td', 'n', num(a.expected, 1)),
        el('td', 'n', a.window + ' min'), el('td', 'n', num(a.score, 1)), el('td', 'what', a.text || ''));
      return tr;
    });
    if (!rows.length) {
      const tr = el('tr', 'empty');
      const td = el('td', null, 'no spike alerts in this range');
      td.colSpan = 7;
      tr.append(td);
      rows.push(tr);
    }
    ui.alerts.replaceChildren(...rows);
  }

  function drawTotals(series, points) {
    const t = { count: 0, positive: 0, negative: 0, neutral: 0, complaint: 0 };
    for (const p of points) for (const k of Object.keys(t)) t[k] += p[k] || 0;
    const tr = el('tr');
    tr.append(el('td', null, series));
    for (const k of Object.keys(t)) {
      const td = el('td', 'n', fmtN(t[k]));
      td.dataset.k = k;
      tr.append(td);
    }
    tr.append(el('td', 'n', t.count ? pct(t.negative / t.count) : '–'));
    ui.totals.replaceChildren(tr);
  }

  function drawSov(answer) {
    const list = answer ? answer.series : [];
    const labels = list.length ? list[0].points.map((p) => label(p.t)) : [];
    chartOf('sov', {
      type: 'bar',
      data: { labels, datasets: list.map((s, i) => ({
        label: s.series.slice(6), stack: 'share', backgroundColor: PALETTE[i % PALETTE.length],
        data: s.points.map((p) => Math.round(1000 * (p.share || 0)) / 10) })) },
      options: {
        maintainAspectRatio: false, animation: false, interaction: { mode: 'index', intersect: false },
        scales: { x: { stacked: true, ticks: { maxRotation: 0 } },
          y: { stacked: true, min: 0, max: 100, ticks: { callback: (v) => v + '%' } } },
        plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${c.parsed.y}%` } } },
      },
    });
    const totals = list.map((s) => ({ name: s.series.slice(6), n: s.points.reduce((a, p) => a + p.count, 0) }));
    const all = totals.reduce((a, x) => a + x.n, 0);
    const rows = totals.sort((a, b) => b.n - a.n).map((x) => {
      const tr = el('tr');
      tr.dataset.brand = x.name;
      tr.append(el('td', null, x.name), el('td', 'n', fmtN(x.n)), el('td', 'n share', all ? pct(x.n / all) : '–'));
      return tr;
    });
    if (!rows.length) {
      const tr = el('tr', 'empty');
      const td = el('td', null, list.length ? '' : 'Tick two or more brands to compare them.');
      td.colSpan = 3;
      tr.append(td);
      rows.push(tr);
    }
    ui.sovTable.replaceChildren(...rows);
  }

  function drawTop(body, answer, by) {
    const rows = (answer[by] || []).map((r) => {
      const tr = el('tr');
      tr.dataset.name = r.name;
      const name = el('td');
      if (state.dim === 'brand' || state.dim === 'topic') {
        const a = el('a', null, r.name);
        a.href = '#';
        a.title = 'show ' + r.series + ' above';
        a.addEventListener('click', (ev) => { ev.preventDefault(); pickSeries(r.series); });
        name.append(a);
      } else {
        name.textContent = r.name;
      }
      const g = r.growth || 0;
      tr.append(name, el('td', 'n', fmtN(r.count)), el('td', 'n', fmtN(r.previous)),
        el('td', 'n ' + (g > 0 ? 'grow' : g < 0 ? 'shrink' : ''), (g > 0 ? '+' : '') + Math.round(100 * g) + '%'));
      return tr;
    });
    if (!rows.length) {
      const tr = el('tr', 'empty');
      const td = el('td', null, 'nothing counted in this range');
      td.colSpan = 4;
      tr.append(td);
      rows.push(tr);
    }
    body.replaceChildren(...rows);
  }

  // ---- the mentions behind a bar ----

  async function showItems(index) {
    if (!main || !main.points[index]) return;
    const p = main.points[index];
    const start = Date.parse(p.t);
    const next = main.points[index + 1];
    const end = next ? Date.parse(next.t) : Math.min(start + BUCKET_S[state.bucket] * 1000, Date.parse(main.to));
    const f = seriesFilter(main.series);
    const since = new Date(start).toISOString().replace(/\.\d+Z$/, 'Z');
    const q = Object.assign({}, f, { since, limit: '1000' });
    ui.itemsPanel.hidden = false;
    ui.itemsWhat.textContent = `${main.series}, ${p.t.replace('T', ' ').slice(0, 16)} (${p.count})`;
    ui.itemsPanel.dataset.from = since;
    ui.itemsPanel.dataset.to = new Date(end).toISOString().replace(/\.\d+Z$/, 'Z');
    const mon = new URLSearchParams(Object.assign({}, f.brand ? { brand: f.brand } : {}, f.topic ? { topic: f.topic } : {},
      f.complaint ? { complaints: '1' } : {}));
    ui.itemsMonitor.href = '/monitor/' + (String(mon) ? '?' + mon : '');
    ui.itemsApi.href = '/api/items?' + new URLSearchParams(q);
    ui.itemsNote.textContent = 'loading…';
    ui.items.replaceChildren();
    try {
      const a = await api('/api/items', q);
      const list = (a.items || []).filter((it) => {
        const t = Date.parse(it.published);
        return t >= start && t < end;
      }).reverse();
      ui.itemsNote.textContent = list.length
        ? `${list.length} mention${list.length === 1 ? '' : 's'} published in this bucket` +
          ((a.items || []).length >= 1000 ? ' (from the newest 1,000 since its start: there may be more)' : '')
        : 'No stored mentions found for this bucket (old items may have been trimmed).';
      ui.items.replaceChildren(...list.map(itemNode));
    } catch (e) {
      ui.itemsNote.textContent = 'Could not load the mentions: ' + e.message;
    }
    ui.itemsPanel.scrollIntoView({ block: 'nearest' });
  }

  // an item's published time in the chosen zone ("2026-12-03 09:10:00")
  function localTime(t) {
    try {
      return new Date(t).toLocaleString('sv-SE', { timeZone: state.tz });
    } catch (e) {
      return String(t || '');
    }
  }

  function itemNode(it) {
    const tags = it.tags || {};
    const lbl = (tags.sentiment && tags.sentiment.label) || 'neutral';
    const li = el('li', lbl);
    li.dataset.id = it.id;
    const meta = el('div', 'meta');
    meta.append(el('span', 'time', localTime(it.published)),
      el('span', 'author', (it.author && (it.author.name || it.author.handle)) || ''),
      el('span', 'score ' + lbl, lbl));
    for (const b of tags.brands || []) meta.append(el('span', 'tag brand', b));
    for (const t of tags.topics || []) meta.append(el('span', 'tag', t));
    if (tags.complaint && tags.complaint.label === true) meta.append(el('span', 'tag urgent', 'complaint'));
    if (it.url && /^https?:\/\//.test(it.url)) {
      const a = el('a', null, 'open');
      a.href = it.url;
      a.rel = 'noopener noreferrer';
      a.target = '_blank';
      meta.append(a);
    }
    li.append(meta);
    if (it.title) li.append(el('div', 'title', it.title));
    li.append(el('div', 'text', it.text || ''));
    return li;
  }

  // ---- loading ----

  async function load(quiet) {
    const my = ++gen;
    const s = span();
    if (!s) { showError('Choose a custom range: "from" before "to".'); return; }
    saveToUrl();
    if (!quiet) setStatus('loading…', 'down');
    const base = { from: String(s.from), to: String(s.to), bucket: state.bucket, tz: state.tz };
    const sov = state.sov.map((b) => 'brand:' + b);
    try {
      const since = new Date(s.from * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      const [m, v, top, al] = await Promise.all([
        api('/api/trends', Object.assign({ series: state.series }, base)),
        sov.length ? api('/api/trends', Object.assign({ series: sov.join(',') }, base)) : null,
        api('/api/trends/top', { dim: state.dim, from: base.from, to: base.to, limit: '10' }),
        api('/api/alerts', { since, limit: '200' }).catch(() => null),     // an older ctxd has none
      ]);
      if (my !== gen) return;
      const only = m.series[0];
      main = { series: only.series, from: m.from, to: m.to, points: only.points };
      ui.rangeNote.textContent = `${m.from.replace('T', ' ')} – ${m.to.replace('T', ' ')} · ${m.bucket} buckets · ${m.tz}`;
      const alerts = (al && Array.isArray(al.alerts) ? al.alerts : [])
        .filter((a) => a && typeof a.series === 'string' && Date.parse(a.at) < s.to * 1000);
      drawVolume(only.points, alerts);
      drawAlerts(alerts);
      drawTotals(only.series, only.points);
      drawSov(v);
      drawTop(ui.topVolume, top, 'by_volume');
      drawTop(ui.topGrowth, top, 'by_growth');
      showError('');
      const live = state.range !== 'custom';
      setStatus((live ? 'live · ' : '') + 'updated ' + new Date().toLocaleTimeString(), live ? 'live' : 'paused');
    } catch (e) {
      if (my !== gen) return;
      if (e.auth) { needToken(token ? 'The server did not accept this token.' : ''); return; }
      setStatus('error', 'down');
      showError(e instanceof ApiError ? 'ctxd: ' + e.message : 'Could not reach ctxd (' + e.message + ').');
    }
  }

  // brand and topic names counted in the last 30 days, for the pickers
  async function loadNames() {
    const now = Math.floor(Date.now() / 1000);
    const q = (dim) => api('/api/trends/top', { dim, from: String(now - 30 * 86400), to: String(now), limit: '50' });
    const [brands, topics] = await Promise.all([q('brand'), q('topic')]);
    const names = (a) => (a.by_volume || []).map((r) => r.name);
    knownBrands = names(brands);
    fillSeries(knownBrands, names(topics));
    if (!sovChosen) state.sov = knownBrands.slice(0, SOV_MAX);
    fillSovBrands();
  }

  function fillSeries(brands, topics) {
    const keep = state.series;
    const groups = [['Brands', 'brand', brands], ['Topics', 'topic', topics]];
    const opts = [new Option('all mentions', 'all')];
    for (const [name, dim, list] of groups) {
      if (!list.length) continue;
      const g = document.createElement('optgroup');
      g.label = name;
      for (const n of list) g.append(new Option(n, dim + ':' + n));
      opts.push(g);
    }
    ui.series.replaceChildren(...opts);
    ensureOption(keep);
    ui.series.value = keep;
  }

  function ensureOption(series) {
    if (![...ui.series.options].some((o) => o.value === series)) ui.series.append(new Option(series, series));
  }

  function fillSovBrands() {
    const names = [...new Set(knownBrands.concat(state.sov))];
    const boxes = names.map((n) => {
      const l = el('label');
      const c = document.createElement('input');
      c.type = 'checkbox';
      c.value = n;
      c.checked = state.sov.includes(n);
      c.addEventListener('change', () => {
        sovChosen = true;
        state.sov = [...ui.sovBrands.querySelectorAll('input:checked')].map((x) => x.value);
        load();
      });
      l.append(c, ' ' + n);
      return l;
    });
    const legend = el('legend', 'muted', 'Brands');
    ui.sovBrands.replaceChildren(legend, ...(boxes.length ? boxes : [el('span', 'muted', 'no brands counted yet')]));
  }

  function pickSeries(series) {
    ensureOption(series);
    ui.series.value = series;
    state.series = series;
    load();
  }

  // ---- controls, URL, polling ----

  function setRange(r) {
    state.range = r;
    for (const b of document.querySelectorAll('[data-range]')) b.setAttribute('aria-pressed', String(b.dataset.range === r));
    ui.custom.hidden = r !== 'custom';
  }

  function saveToUrl() {
    const p = new URLSearchParams();
    if (state.series !== 'all') p.set('series', state.series);
    p.set('range', state.range);
    if (state.range === 'custom') { p.set('from', state.from); p.set('to', state.to); }
    p.set('bucket', state.bucket);
    if (state.tz !== browserTz) p.set('tz', state.tz);
    if (sovChosen) p.set('sov', state.sov.join(','));
    if (state.dim !== 'topic') p.set('dim', state.dim);
    history.replaceState(null, '', location.pathname + '?' + p);
  }

  function poll() {
    clearInterval(pollTimer);
    pollTimer = setInterval(() => {
      if (state.range !== 'custom' && !document.hidden && ui.login.hidden) load(true);
    }, POLL_MS);
  }

  for (const b of document.querySelectorAll('[data-range]')) {
    b.addEventListener('click', () => {
      const r = b.dataset.range;
      setRange(r);
      if (r === 'custom') {
        if (!ui.from.value) {      // start from the last 24 h, in the browser's clock
          const now = Date.now();
          const local = (ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60000).toISOString().slice(0, 16);
          ui.from.value = local(now - 86400000);
          ui.to.value = local(now);
        }
        state.from = ui.from.value;
        state.to = ui.to.value;
      } else {
        state.bucket = DEFAULT_BUCKET[r];
        ui.bucket.value = state.bucket;
      }
      load();
    });
  }
  ui.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.from = ui.from.value;
    state.to = ui.to.value;
    load();
  });
  ui.series.addEventListener('change', () => { state.series = ui.series.value; load(); });
  ui.bucket.addEventListener('change', () => { state.bucket = ui.bucket.value; load(); });
  ui.dim.addEventListener('change', () => { state.dim = ui.dim.value; load(); });
  ui.tz.addEventListener('change', () => { state.tz = ui.tz.value.trim() || browserTz; ui.tz.value = state.tz; load(); });

  function needToken(msg) {
    ui.app.hidden = true;
    ui.login.hidden = false;
    ui.loginError.textContent = msg || '';
    setStatus('token needed', 'down');
    ui.token.focus();
  }
  ui.login.addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = ui.token.value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    ui.login.hidden = true;
    ui.app.hidden = false;
    ui.logout.hidden = false;
    start();
  });
  ui.logout.addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    token = '';
    location.reload();
  });

  async function start() {
    try {
      await loadNames();
    } catch (e) {
      if (e.auth) { needToken(token ? 'The server did not accept this token.' : ''); return; }
      showError('Could not read the brand and topic names: ' + e.message);
    }
    await load();
    poll();
  }

  // ---- start: the state from the URL ----
  {
    const p = new URLSearchParams(location.search);
    const get = (k) => (p.get(k) || '').trim();
    const r = get('range');
    setRange(r in RANGES || r === 'custom' ? r : '24h');
    state.bucket = BUCKET_S[get('bucket')] ? get('bucket') : DEFAULT_BUCKET[state.range];
    if (get('series')) state.series = get('series');
    if (get('tz')) state.tz = get('tz');
    if (p.has('sov')) { sovChosen = true; state.sov = get('sov').split(',').filter(Boolean); }
    if (get('dim')) state.dim = get('dim');
    state.from = ui.from.value = get('from');
    state.to = ui.to.value = get('to');
    ensureOption(state.series);
    ui.series.value = state.series;
    ui.bucket.value = state.bucket;
    ui.tz.value = state.tz;
    ui.dim.value = state.dim;
    for (const z of [browserTz, 'UTC', 'Europe/London', 'Europe/Berlin', 'Europe/Moscow', 'America/New_York',
      'America/Los_Angeles', 'Asia/Tokyo']) ui.zones.append(new Option(z, z));
    ui.logout.hidden = !token;
    if (typeof Chart === 'undefined') {
      showError('Chart.js is missing: install Debian\'s libjs-chart.js (make deps) on the server.');
    } else {
      Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
      start();
    }
  }
})();
