// Spike alerts on the monitor and trends pages (docs/alerts.md), in Chromium
// against a real ctxd and redis-server. The alert is provoked as
// tests/integration/test_alerts.py does: the trend counters of
// store/KEYS.md seeded straight into Redis (four weeks of a steady minute
// rate, then a spike in the last minutes) and a judge started after them, so
// its first tick judges the spike minute at once (alerts.delay 0s) instead
// of the next minute boundary. The serving ctxd runs with alerts off (the
// judge must be the only one to hold the lease); the judge is a second ctxd
// on the same Redis with --roles analyze. Then: the open monitor shows the
// alert pushed on its websocket (no reload, /api/alerts asked only before
// the alert existed), a reload lists it from /api/alerts, and its link opens
// /trends/ on its series by the minute, with the alert in the Alerts panel
// and a marker on the chart at its minute.
//
// One test: the judge runs once a minute and its first tick is the only
// one a test can have without waiting for a minute boundary (there is no
// "every" key in the alerts config).
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ROOT, Rig, browser, screenshot, waitFor } = require('./lib');

const SERIES = 'reason:outage';
let rig, b;

const ymd = (ms, n) => new Date(ms).toISOString().slice(0, n).replace(/-/g, '');   // n=10: yyyymmdd, 7: yyyymm

// rate posts a minute over the past 29 days (minute buckets for the last
// three days, hour and day buckets for all); spike: posts a minute in the
// three minutes before now and the two after. As test_alerts.py's seed().
function seed(series, nowMs, rate, spike) {
  const nowMin = Math.floor(nowMs / 60000);
  const buckets = { m: {}, h: {}, d: {} };
  const put = (kind, key, field, v) => { (buckets[kind][key] = buckets[kind][key] || []).push(String(field), String(v)); };
  for (let m = nowMin - 3 * 1440; m < nowMin + 3; m++)
    put('m', ymd(m * 60000, 10), m, spike && m >= nowMin - 3 ? spike : rate);
  for (let h = Math.floor(nowMin / 60) - 29 * 24; h <= Math.floor(nowMin / 60); h++)
    put('h', ymd(h * 3600000, 7), h, rate * 60);
  for (let d = Math.floor(nowMin / 1440) - 29; d <= Math.floor(nowMin / 1440); d++)
    put('d', ymd(d * 86400000, 4), d, rate * 1440);
  for (const [kind, keys] of Object.entries(buckets))
    for (const [key, args] of Object.entries(keys)) rig.redis('HSET', `ctx:{i}:tr:${kind}:${series}:${key}`, ...args);
  rig.redis('ZADD', 'ctx:{i}:tr:series', String(nowMs), series);
}

// a second ctxd on the same Redis that only judges spikes
function startJudge() {
  const cfg = JSON.parse(fs.readFileSync(rig.config, 'utf8'));
  cfg.alerts = { delay: '0s' };
  cfg.consumer = 'judge';
  const file = path.join(rig.dir, 'judge.json');
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
  const out = fs.openSync(path.join(rig.dir, 'judge.log'), 'a');
  const p = spawn(path.join(ROOT, process.env.CTXD || 'bin/ctxd'), ['-c', file, '--roles', 'analyze'],
    { stdio: ['ignore', out, out] });
  rig.procs.push(p);          // rig.stop() ends it by its PID
}

async function open(url) {
  const ctx = await b.newContext({ viewport: { width: 1300, height: 1000 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  page.problems = [];
  page.alertsAsked = 0;
  page.frames = [];
  page.on('pageerror', (e) => page.problems.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !(m.location().url || '').endsWith('/favicon.ico')) page.problems.push('console: ' + m.text());
  });
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/api/alerts') page.alertsAsked++; });
  page.on('websocket', (ws) => ws.on('framereceived', (f) => page.frames.push(String(f.payload))));
  await page.goto(rig.url + url);
  return page;
}

describe('alerts', () => {
  before(async () => {
    rig = await new Rig('alerts').start({ alerts: { enabled: false } });
    b = await browser();
  });

  after(async () => {
    if (b) await b.close();
    if (rig) await rig.stop();
  });

  it('pushes a spike alert to the open monitor, lists it on reload and on /trends/ with a chart marker', async () => {
    const page = await open('/monitor/');
    await page.waitForSelector('#status.live');
    await waitFor(() => page.alertsAsked === 1, 5000, 'the monitor to ask /api/alerts');
    assert.ok(await page.isHidden('#alerts'), 'no alert yet, no banner');

    const now = Date.now();
    seed(SERIES, now, 1, 40);
    seed('brand:steady', now, 5);
    startJudge();

    const row = `#alert-list li[data-series="${SERIES}"]`;
    await page.waitForSelector(row, { state: 'visible', timeout: 20000 });
    assert.ok(page.frames.some((f) => JSON.parse(f).type === 'alert'), 'came as an alert frame');
    assert.strictEqual(page.alertsAsked, 1, 'shown without asking /api/alerts again');
    const text = await page.textContent(row);
    assert.match(text, /\d+ in \d+ min vs baseline \d+\.\d/);
    assert.match(text, /since /);
    assert.match(text, /spike of outage complaints/);
    assert.strictEqual(await page.locator('#alert-list li').count(), 1, 'one alert; the steady series raised none');
    await screenshot(page, 'alerts');

    await page.reload();
    await page.waitForSelector(row, { state: 'visible' });
    const href = await page.getAttribute(`${row} a.trends`, 'href');
    const q = new URL(href, rig.url).searchParams;
    assert.strictEqual(q.get('series'), SERIES);
    assert.strictEqual(q.get('bucket'), 'minute');
    assert.strictEqual(q.get('range'), 'custom');
    await page.click(`${row} a.trends`);
    await page.waitForURL(/\/trends\//);
    await page.waitForSelector(`#alerts tbody tr[data-series="${SERIES}"].shown`);
    assert.strictEqual(await page.inputValue('#series'), SERIES);
    const marks = await page.evaluate(() => {
      const c = Chart.getChart('volume');
      const d = c.data.datasets.find((x) => x.label === 'alerts');
      return d ? d.data.map((v, i) => (v === null ? null : c.data.labels[i])).filter((x) => x !== null) : [];
    });
    assert.strictEqual(marks.length, 1, 'one marker on the chart');
    await screenshot(page, 'alerts-trends');
    assert.deepStrictEqual(page.problems, [], 'no script errors in the pages');
    await page.context().close();
  });
});
