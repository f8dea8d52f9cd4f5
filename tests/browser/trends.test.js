// The trends page (/trends/) in Chromium against a real ctxd and
// redis-server. Items with known published times go through the real
// pipeline (raw stream -> analyze role -> tag.lua's counters), then: the
// chart's bars add up to the counts per hour and the totals table says so,
// the time zone is the browser's and is sent as tz=, switching range and
// bucket asks again, share of voice adds up to 100 %, the top table lists
// the seeded topics, a bar lists the mentions behind it and links to the
// monitor, the 30 s refresh shows a new mention, and Chart.js comes from
// ctxd itself (Debian's libjs-chart.js).
//
// The texts are those of tests/integration/test_trends.py, tagged by
// etc/rules/sample.rules: NEG (acme, outage, complaint, negative), POS
// (acme, praise, positive), CLOUD (acme-cloud, praise, positive).
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert');
const { Rig, browser, screenshot, waitFor } = require('./lib');
const { RawWriter, rawItem } = require('./feed_server');

const NEG = 'Acme outage: the service is down and it is terrible';
const POS = 'I love Acme, great product';
const CLOUD = 'Acme Cloud is great, I love it';
const TZ = 'Europe/Moscow';               // whole-hour offset: its hours are UTC hours

let rig, raw, b;
let seq = 0;
const nowS = Math.floor(Date.now() / 1000);
const base = Math.floor(nowS / 3600) * 3600 - 3 * 3600;     // three whole hours ago
const iso = (s) => new Date(s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
const item = (text, published) => rawItem(`tr${++seq}`, { kind: 'social', text, lang: 'en', published: iso(published) });

async function openTrends(query = '', live = true) {
  const ctx = await b.newContext({ viewport: { width: 1300, height: 1100 }, timezoneId: TZ });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  page.problems = [];
  page.requests = [];
  page.on('pageerror', (e) => page.problems.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    const where = m.location().url || '';
    if (m.type() === 'error' && !where.endsWith('/favicon.ico')) page.problems.push(`console: ${m.text()} ${where}`);
  });
  page.on('request', (r) => { if (r.url().includes('/api/')) page.requests.push(new URL(r.url())); });
  await page.clock.install();
  await page.goto(rig.url + '/trends/' + query);
  if (live) await page.waitForSelector('#status.live');
  return page;
}

async function closePage(page) {
  const problems = page.problems;
  await page.context().close();
  assert.deepStrictEqual(problems, [], 'no script errors or CSP violations in the page');
}

// the chart's bars summed per bucket, with their labels
const bars = (page) => page.evaluate(() => {
  const c = Chart.getChart('volume');
  const sets = c.data.datasets.filter((d) => d.type === 'bar');
  return { labels: c.data.labels, sums: c.data.labels.map((_, i) => sets.reduce((a, d) => a + d.data[i], 0)),
    complaints: c.data.datasets.find((d) => d.label === 'complaints').data };
});
const total = (page, k) => page.$eval(`#totals td[data-k="${k}"]`, (td) => Number(td.textContent.replace(/,/g, '')));

// the label the page gives an hour bucket starting at epoch s, in TZ ("HH:MM")
const hourLabel = (s) => new Date(s * 1000).toLocaleTimeString('en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit' });

describe('trends', () => {
  before(async () => {
    rig = await new Rig('trends').start();
    raw = await new RawWriter(rig.redisPort).open();
    const items = [0, 1, 2].map((i) => item(NEG, base + 600 + i))
      .concat([0, 1].map((i) => item(POS, base + 3600 + 600 + i)))
      .concat([0, 1, 2, 3].map((i) => item(CLOUD, base + 3600 + 900 + i)));
    await raw.send(items);
    await waitFor(() => Number(rig.redis('XLEN', 'ctx:{i}:items:tagged')) >= items.length, 20000, 'items tagged');
    b = await browser();
  });

  after(async () => {
    if (b) await b.close();
    if (raw) raw.close();
    if (rig) await rig.stop();
  });

  it('serves Chart.js from Debian\'s package, not a CDN', async () => {
    const r = await fetch(rig.url + '/javascript/chart.js/chart.min.js');
    assert.strictEqual(r.status, 200);
    assert.match(r.headers.get('content-type'), /javascript/);
    assert.match((await r.text()).slice(0, 200), /Chart\.js v\d/);
    const html = await (await fetch(rig.url + '/trends/')).text();
    assert.ok(!/https?:\/\//.test(html.replace(/<a [^>]*>/g, '')), 'no outside URL in the page');
    const index = await (await fetch(rig.url + '/')).text();
    assert.match(index, /href="\/trends\/"/, 'the index links to the page');
  });

  it('charts the counts per hour in the browser\'s time zone, with totals', async () => {
    const page = await openTrends();
    assert.strictEqual(await page.inputValue('#tz'), TZ);
    const q = page.requests.find((u) => u.pathname === '/api/trends' && u.searchParams.get('series') === 'all');
    assert.ok(q, 'asked /api/trends for all');
    assert.strictEqual(q.searchParams.get('tz'), TZ);
    assert.strictEqual(q.searchParams.get('bucket'), 'hour');
    const c = await bars(page);
    assert.strictEqual(c.labels.length, 25, c.labels.join());     // 24 h of hours, both ends partial
    const at = (s) => c.sums[c.labels.indexOf(hourLabel(s))];
    assert.deepStrictEqual([at(base), at(base + 3600), at(base + 7200)], [3, 6, 0], c.labels.join());
    assert.strictEqual(c.sums.reduce((a, x) => a + x, 0), 9);
    assert.strictEqual(c.complaints[c.labels.indexOf(hourLabel(base))], 3);
    assert.strictEqual(await total(page, 'count'), 9);
    assert.strictEqual(await total(page, 'negative'), 3);
    assert.strictEqual(await total(page, 'positive'), 6);
    assert.strictEqual(await total(page, 'complaint'), 3);
    await closePage(page);
  });

  it('asks again when the range, the bucket or the series change', async () => {
    const page = await openTrends();
    const asked = (pred) => page.waitForRequest((r) => {
      const u = new URL(r.url());
      return u.pathname === '/api/trends' && pred(u.searchParams);
    });
    let wait = asked((p) => Number(p.get('to')) - Number(p.get('from')) === 7 * 86400 && p.get('bucket') === 'hour');
    await page.click('[data-range="7d"]');
    await wait;
    await page.waitForFunction(() => Chart.getChart('volume').data.labels.length > 150);
    assert.strictEqual(await page.getAttribute('[data-range="7d"]', 'aria-pressed'), 'true');
    wait = asked((p) => p.get('bucket') === 'day');
    await page.selectOption('#bucket', 'day');
    await wait;
    await page.waitForFunction(() => Chart.getChart('volume').data.labels.length <= 8);
    await waitFor(async () => (await total(page, 'count')) === 9, 5000, 'the day totals');
    assert.match(page.url(), /range=7d/);
    assert.match(page.url(), /bucket=day/);
    wait = asked((p) => p.get('series') === 'brand:acme');
    await page.selectOption('#series', 'brand:acme');
    await wait;
    await waitFor(async () => (await total(page, 'count')) === 5, 5000, 'the acme totals');
    // a custom range: the seeded hours only
    await page.click('[data-range="custom"]');
    const local = (s) => new Date(s * 1000).toLocaleString('sv-SE', { timeZone: TZ }).replace(' ', 'T').slice(0, 16);
    await page.fill('#from', local(base));
    await page.fill('#to', local(base + 2 * 3600));
    wait = asked((p) => p.get('from') === String(base) && p.get('to') === String(base + 7200));
    await page.click('#custom button[type="submit"]');
    await wait;
    await closePage(page);
  });

  it('shows share of voice adding up to 100 %, and the top topics', async () => {
    const page = await openTrends();
    await page.waitForSelector('#sov-table tr[data-brand="acme-cloud"]');
    const shares = await page.$$eval('#sov-table tr[data-brand]', (trs) =>
      trs.map((tr) => [tr.dataset.brand, parseFloat(tr.querySelector('.share').textContent)]));
    assert.deepStrictEqual(Object.fromEntries(shares), { acme: 55.6, 'acme-cloud': 44.4 });
    assert.strictEqual(shares.reduce((a, [, s]) => a + s, 0), 100);
    const perBucket = await page.evaluate(() => {
      const c = Chart.getChart('sov');
      return c.data.labels.map((_, i) => c.data.datasets.reduce((a, d) => a + d.data[i], 0));
    });
    assert.ok(perBucket.every((s) => s === 0 || Math.abs(s - 100) < 0.2), perBucket.join());
    const top = await page.$$eval('#top-volume tr[data-name]', (trs) => trs.map((tr) => tr.dataset.name));
    assert.deepStrictEqual(top, ['praise', 'outage']);
    const growth = await page.$$eval('#top-growth tr[data-name]', (trs) => trs.map((tr) => tr.dataset.name));
    assert.deepStrictEqual(growth.sort(), ['outage', 'praise']);
    // a name in the top table becomes the chart's series
    await page.click('#top-volume tr[data-name="outage"] a');
    await waitFor(async () => (await total(page, 'count')) === 3, 5000, 'the outage totals');
    assert.strictEqual(await page.inputValue('#series'), 'topic:outage');
    await closePage(page);
  });

  it('lists the mentions behind a bar and links to the monitor', async () => {
    const page = await openTrends('?series=brand:acme');
    await waitFor(async () => (await total(page, 'count')) === 5, 5000, 'the acme totals');
    const idx = await page.evaluate((l) => Chart.getChart('volume').data.labels.indexOf(l), hourLabel(base));
    const pos = await page.evaluate((i) => {
      const c = Chart.getChart('volume');
      const bar = c.getDatasetMeta(0).data[i];
      const r = c.canvas.getBoundingClientRect();
      return { x: r.left + bar.x, y: r.top + (c.chartArea.bottom - 5) };
    }, idx);
    await page.mouse.click(pos.x, pos.y);
    await page.waitForSelector('#items-panel:not([hidden]) #items li');
    await page.waitForFunction(() => document.querySelectorAll('#items li').length === 3);
    const texts = await page.$$eval('#items li .text', (x) => x.map((e) => e.textContent));
    assert.deepStrictEqual(texts, [NEG, NEG, NEG]);
    assert.strictEqual(await page.getAttribute('#items-monitor', 'href'), '/monitor/?brand=acme');
    const api = new URL(await page.getAttribute('#items-api', 'href'), rig.url);
    assert.strictEqual(api.searchParams.get('brand'), 'acme');
    assert.strictEqual(api.searchParams.get('since'), iso(base));
    await screenshot(page, 'trends');
    await closePage(page);
  });

  it('refreshes the current bucket every 30 s', async () => {
    const page = await openTrends();
    assert.strictEqual(await total(page, 'count'), 9);
    await raw.send([item(POS, Math.floor(Date.now() / 1000))]);
    await waitFor(() => Number(rig.redis('XLEN', 'ctx:{i}:items:tagged')) >= 10, 20000, 'the new item tagged');
    await page.clock.fastForward(31000);
    await waitFor(async () => (await total(page, 'count')) === 10, 10000, 'the refreshed total');
    await closePage(page);
  });

  it('says what ctxd refuses', async () => {
    const page = await openTrends('?tz=Mars/Olympus', false);
    await page.waitForSelector('#error:not([hidden])');
    assert.match(await page.textContent('#error'), /ctxd: tz must be a time zone name/);
    page.problems = page.problems.filter((p) => !/status of 400/.test(p));    // the refused request itself
    await closePage(page);
  });
});
