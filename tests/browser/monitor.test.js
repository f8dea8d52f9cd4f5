// The live monitor (/monitor/) in Chromium against a real ctxd and
// redis-server: mentions appear live, the filters (sentiment, brand,
// language, network, complaints only) work, complaints show their badge and
// reasons, "complaints only" finds complaints older than the newest page,
// pause holds and resume shows, the last-hour counters count by published
// time, a burst keeps the list capped, hostile text is shown as text and
// runs nothing, and with auth on the page asks for a token.
//
// No assertion depends on timing: "X did not appear" is checked only after
// an item that entered the tagged stream after X has appeared (the monitor
// delivers in stream order), and "entered the tagged stream" is read from
// Redis (the item hash and the stream entry are written by one script).
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const { Rig, browser, screenshot, waitFor } = require('./lib');
const { FeedServer, RawWriter, rawItem } = require('./feed_server');

const HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';

let rig, feed, raw, b;
let seq = 0;

function redis(...args) {
  return execFileSync('redis-cli', ['-p', String(rig.redisPort), ...args], { encoding: 'utf8' }).trim();
}

// XADD raw items and wait until each is tagged (in ctx:{i}:item:<id> and the
// tagged stream), in order: item k+1 is added only after item k is tagged,
// so the tagged stream has them in this order.
async function addInOrder(...items) {
  for (const it of items) {
    await raw.send([it]);
    await waitFor(() => redis('HEXISTS', `ctx:{i}:item:${it.id}`, 'json') === '1', 10000, `${it.id} tagged`);
  }
}

const item = (fields) => rawItem(`m${++seq}`, fields);

async function openMonitor(query = '') {
  const page = await b.newPage({ viewport: { width: 1200, height: 900 } });
  page.setDefaultTimeout(15000);
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    const where = m.location().url || '';
    if (m.type() === 'error' && !where.endsWith('/favicon.ico')) page.problems.push(`console: ${m.text()} ${where}`);
  });
  await page.goto(rig.url + '/monitor/' + query);
  await page.waitForSelector('#status.live');
  return page;
}

const shownIds = (page) => page.$$eval('#items li', (lis) => lis.map((li) => li.dataset.id));
const waitShown = (page, id) =>
  page.waitForFunction((x) => !!document.querySelector(`#items li[data-id="${x}"]`), id);

async function closePage(page) {
  const problems = page.problems;
  await page.close();
  assert.deepStrictEqual(problems, [], 'no script errors or CSP violations in the page');
}

describe('monitor', () => {
  before(async () => {
    feed = await new FeedServer().start();
    rig = await new Rig('monitor').start({
      sources: [{ name: 'f', kind: 'feed', url: feed.url, every: '0.3s' }],
    });
    raw = await new RawWriter(rig.redisPort).open();
    b = await browser();
  });

  after(async () => {
    if (b) await b.close();
    if (raw) raw.close();
    if (feed) await feed.stop();
    if (rig) await rig.stop();
  });

  it('shows new mentions live, with script-bearing text as text (feed and raw)', async () => {
    const page = await openMonitor();
    // The feed's description is HTML: "&lt;script&gt;" there is the text "<script>".
    const htmlText = HOSTILE.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    feed.add({ guid: 'xss-1', title: 'Acme Cloud outage <b>again</b>',
      description: 'Acme Cloud is down again, terrible. ' + htmlText });
    const feedId = await waitFor(async () => {
      const r = await (await fetch(rig.url + '/api/items?limit=50')).json();
      const it = r.items.find((x) => x.id.startsWith('feed:f:'));
      return it && it.id;
    }, 10000, 'the feed item tagged');
    await waitShown(page, feedId);
    const rawHostile = item({ text: 'Acme billing is awful and broken ' + HOSTILE, title: HOSTILE });
    await addInOrder(rawHostile);
    await waitShown(page, rawHostile.id);

    const feedText = await page.textContent(`#items li[data-id="${feedId}"] .text`);
    assert.ok(feedText.includes('<script>window.__pwned=1</script>'), feedText);
    assert.ok(feedText.includes('onerror="window.__pwned=2"'), feedText);
    const rawText = await page.textContent(`#items li[data-id="${rawHostile.id}"] .text`);
    assert.ok(rawText.includes(HOSTILE), rawText);
    assert.strictEqual(await page.textContent(`#items li[data-id="${rawHostile.id}"] .title a`), HOSTILE);
    assert.strictEqual(await page.evaluate(() => window.__pwned), undefined, 'no script ran');
    assert.strictEqual(await page.$$eval('#items script, #items img, #items b', (x) => x.length), 0,
      'no element was made from item text');
    // the sentiment shows, and the list is newest first
    assert.match(await page.getAttribute(`#items li[data-id="${rawHostile.id}"]`, 'class'), /negative/);
    assert.strictEqual((await shownIds(page))[0], rawHostile.id);
    await screenshot(page, 'monitor');
    await closePage(page);
  });

  it('filters by sentiment on the server', async () => {
    const page = await openMonitor();
    await page.selectOption('#sentiment', 'negative');   // applies at once
    await page.waitForFunction(() => location.search === '?sentiment=negative');
    await page.waitForSelector('#status.live');
    const pos = item({ text: 'Acme support is great, thanks!' });
    const neg = item({ text: 'Initech billing is awful and broken' });
    await addInOrder(pos, neg);
    await waitShown(page, neg.id);
    const ids = await shownIds(page);
    assert.ok(!ids.includes(pos.id), 'the positive mention is filtered out');
    const classes = await page.$$eval('#items li', (lis) => lis.map((li) => li.className));
    assert.ok(classes.length > 0 && classes.every((c) => /\bnegative\b/.test(c)), classes.join());
    await closePage(page);
  });

  it('filters by brand on the server, and the filter is in the address', async () => {
    const page = await openMonitor();
    await page.fill('#brand', 'Acme');
    await page.click('#filter button[type="submit"]');
    await page.waitForFunction(() => location.search === '?brand=acme');
    await page.waitForSelector('#status.live');
    const other = item({ text: 'Globex shipped version 4 of the app today.' });
    const acme = item({ text: 'Acme released a new version today.' });
    await addInOrder(other, acme);
    await waitShown(page, acme.id);
    assert.ok(!(await shownIds(page)).includes(other.id), 'the mention without the brand is filtered out');
    const brands = await page.$$eval('#items li', (lis) =>
      lis.map((li) => Array.from(li.querySelectorAll('.tag.brand'), (t) => t.textContent)));
    assert.ok(brands.every((bs) => bs.includes('acme')), JSON.stringify(brands));
    // a reload keeps the filter (it is in the address)
    await page.reload();
    await page.waitForSelector('#status.live');
    assert.strictEqual(await page.inputValue('#brand'), 'acme');
    await waitShown(page, acme.id);
    await closePage(page);
  });

  it('filters by language and network in the page', async () => {
    const page = await openMonitor();
    const ru = item({ id: 'mastodon:social.example:ru1', text: 'Сервис Acme ужасный, всё сломано' });
    const en = item({ text: 'Acme support is great, thanks!' });
    await addInOrder(ru, en);
    await waitShown(page, en.id);
    await waitShown(page, ru.id);
    await page.selectOption('#lang', 'ru');
    await page.waitForFunction((x) => !document.querySelector(`#items li[data-id="${x}"]`), en.id);
    let ids = await shownIds(page);
    assert.ok(ids.includes(ru.id));
    assert.ok((await page.$$eval('#items li .lang', (x) => x.map((e) => e.textContent))).every((l) => l === 'ru'));
    await page.selectOption('#lang', '');
    await page.selectOption('#network', 'mastodon');
    await page.waitForFunction((x) => !document.querySelector(`#items li[data-id="${x}"]`), en.id);
    ids = await shownIds(page);
    assert.ok(ids.length > 0 && ids.every((id) => id.startsWith('mastodon:')), ids.join());
    await page.selectOption('#network', '');
    await waitShown(page, en.id);
    await closePage(page);
  });

  it('shows the complaint badge and reasons, and "complaints only" hides the rest', async () => {
    // Tagged items stored as the analyze role stores them, so that what is a
    // complaint is up to the test, not to the analyzer's cues.
    const tagged = (complaint, fields = {}) => Object.assign(item(fields), { lang: 'en', tags: {
      sentiment: { score: 0, label: 'neutral' }, topics: [], brands: ['acme'], urgent: false,
      complaint } });
    const page = await openMonitor();
    const plain = tagged({ score: 0.12, label: false, reasons: [] }, { text: 'Acme opened a shop in Leeds.' });
    const weak = tagged({ score: 0.3, label: false, reasons: ['delay'] }, { text: 'Acme parcel a day late, fine.' });
    const complaint = tagged({ score: 0.91, label: true, reasons: ['delay', '<b>money</b>'] },
      { text: 'Still waiting for my Acme refund after three weeks.' });
    for (const x of [plain, weak, complaint]) await rig.storeTagged(x);
    await waitShown(page, complaint.id);
    await waitShown(page, plain.id);
    await waitShown(page, weak.id);
    const li = `#items li[data-id="${complaint.id}"]`;
    assert.strictEqual(await page.textContent(`${li} .tag.complaint`), 'complaint');
    assert.strictEqual(await page.getAttribute(`${li} .tag.complaint`, 'title'), 'complaint score 0.91');
    assert.deepStrictEqual(await page.$$eval(`${li} .reasons .reason`, (x) => x.map((e) => e.textContent)),
      ['delay', '<b>money</b>']);
    assert.strictEqual(await page.$$eval('#items b', (x) => x.length), 0, 'reasons are text');
    assert.match(await page.getAttribute(li, 'class'), /\bcomplaint\b/);
    for (const x of [plain, weak]) {   // no badge, and no reasons without the label
      assert.strictEqual(await page.$$eval(`#items li[data-id="${x.id}"] .tag.complaint, #items li[data-id="${x.id}"] .reason`,
        (e) => e.length), 0, x.id);
    }
    await screenshot(page, 'monitor-complaint');

    await page.check('#complaints');      // applies at once: asks ctxd again
    await page.waitForFunction(() => location.search === '?complaints=true');
    await page.waitForFunction((x) => !document.querySelector(`#items li[data-id="${x}"]`), plain.id);
    await waitShown(page, complaint.id);  // the list is asked again: cleared first, then filled
    let ids = await shownIds(page);
    assert.ok(ids.includes(complaint.id) && !ids.includes(weak.id), ids.join());
    assert.ok((await page.$$eval('#items li', (x) => x.map((e) => e.className))).every((c) => /\bcomplaint\b/.test(c)));
    // new ones too: the non-complaint is stored first, so once the complaint
    // after it is shown it would have been shown as well
    const plain2 = tagged({ score: 0, label: false, reasons: [] }, { text: 'Acme is hiring.' });
    const complaint2 = tagged({ score: 0.8, label: true, reasons: ['broken-product'] },
      { text: 'My Acme kettle broke on day two.' });
    await rig.storeTagged(plain2);
    await rig.storeTagged(complaint2);
    await waitShown(page, complaint2.id);
    assert.ok(!(await shownIds(page)).includes(plain2.id), 'a new non-complaint is hidden');
    // the filter is in the address: a reload keeps it
    await page.reload();
    await page.waitForSelector('#status.live');
    assert.ok(await page.isChecked('#complaints'));
    await waitShown(page, complaint2.id);
    ids = await shownIds(page);
    assert.ok(ids.includes(complaint.id) && !ids.includes(plain.id) && !ids.includes(plain2.id), ids.join());
    await page.uncheck('#complaints');
    await waitShown(page, plain.id);
    await waitShown(page, plain2.id);
    await closePage(page);
  });

  it('"complaints only" asks ctxd, so it finds complaints older than the newest 300', async () => {
    // a complaint published 2 h ago, then 301 other mentions published after
    // it (90 min ago, brand "bulk", so the last-hour counters of the other
    // tests do not see them): it is outside the page's usual load (the
    // newest 300 and the last hour) but ?complaint=true finds it
    const at = (min) => new Date(Date.now() - min * 60000).toISOString().replace(/\.\d+Z$/, 'Z');
    const tags = (complaint, brand) => ({ sentiment: { score: 0, label: 'neutral' }, topics: [],
      brands: [brand], urgent: false, complaint });
    const old = Object.assign(item({ text: 'Two weeks and still no refund from Acme.', lang: 'en',
      published: at(120), fetched: at(120) }),
    { tags: tags({ score: 0.9, label: true, reasons: ['money'] }, 'acme') });
    await rig.storeTagged(old);
    for (let i = 0; i < 301; i++) {
      await rig.storeTagged(Object.assign(item({ text: `bulk post ${i}`, lang: 'en', published: at(90),
        fetched: at(90) }), { tags: tags({ score: 0, label: false, reasons: [] }, 'bulk') }));
    }
    const newest = await (await fetch(rig.url + '/api/items?limit=300')).json();
    assert.ok(!newest.items.some((x) => x.id === old.id), 'the old complaint is not in the newest 300');
    const page = await openMonitor('?complaints=true');
    await waitShown(page, old.id);
    assert.ok((await page.$$eval('#items li', (x) => x.map((e) => e.className))).every((c) => /\bcomplaint\b/.test(c)));
    await closePage(page);
  });

  it('pause holds new mentions and counts them; resume shows them', async () => {
    const page = await openMonitor();
    const first = item({ text: 'Acme released a new version today.' });
    await addInOrder(first);
    await waitShown(page, first.id);
    await page.click('#pause');
    await page.waitForSelector('#status.paused');
    const held = [item({ text: 'Acme billing is awful and broken' }),
      item({ text: 'Acme support is great, thanks!' }), item({ text: 'Globex shipped version 4.' })];
    await addInOrder(...held);
    await page.waitForFunction(() => /Paused: 3 new mentions held/.test(document.getElementById('held').textContent));
    const ids = await shownIds(page);
    for (const h of held) assert.ok(!ids.includes(h.id), `${h.id} is held while paused`);
    assert.strictEqual(ids[0], first.id);
    await screenshot(page, 'monitor-paused');
    await page.click('#pause');
    for (const h of held) await waitShown(page, h.id);
    assert.deepStrictEqual((await shownIds(page)).slice(0, 4), [held[2].id, held[1].id, held[0].id, first.id]);
    assert.ok(await page.isHidden('#held'));
    await closePage(page);
  });

  it('counts the last hour per sentiment by published time', async () => {
    const page = await openMonitor();
    const n = async () => page.evaluate(() => Object.fromEntries(['negative', 'neutral', 'positive', 'received']
      .map((k) => [k, Number(document.getElementById('n-' + k).textContent.replace('+', ''))])));
    const before0 = await n();
    const old = item({ text: 'Initech billing is awful and broken',
      published: new Date(Date.now() - 2 * 3600e3).toISOString() });
    const neg = item({ text: 'Acme billing is awful and broken' });
    const pos = item({ text: 'Acme support is great, thanks!' });
    await addInOrder(old, neg, pos);
    await waitShown(page, pos.id);
    await page.waitForFunction((r) => Number(document.getElementById('n-received').textContent) >= r,
      before0.received + 3);
    const after0 = await n();
    assert.strictEqual(after0.received, before0.received + 3);
    assert.strictEqual(after0.negative, before0.negative + 1, 'the two-hour-old mention is not counted');
    assert.strictEqual(after0.positive, before0.positive + 1);
    assert.strictEqual(after0.neutral, before0.neutral);
    await closePage(page);
  });

  it('a burst of 2,000 mentions keeps the list capped at 300 and the page responsive', async () => {
    const page = await openMonitor();
    const before0 = Number(await page.textContent('#n-received'));
    const burst = [];
    for (let i = 0; i < 2000; i++)
      burst.push(item({ text: `Burst ${i}: ${['Acme support is great', 'Acme billing is awful', 'Acme released v' + i][i % 3]}` }));
    await raw.send(burst);
    await page.waitForFunction((want) => Number(document.getElementById('n-received').textContent) >= want,
      before0 + 2000, { timeout: 60000 });
    await waitShown(page, burst[1999].id);
    assert.strictEqual(await page.$$eval('#items li', (x) => x.length), 300);
    assert.strictEqual(Number(await page.textContent('#n-shown')), 300);
    assert.strictEqual((await shownIds(page))[0], burst[1999].id);
    // the page still answers input
    await page.click('#pause');
    await page.waitForSelector('#status.paused');
    await page.click('#pause');
    await screenshot(page, 'monitor-burst');
    await closePage(page);
  });
});

describe('monitor with auth on', () => {
  let arig, ab;
  before(async () => {
    arig = await new Rig('monitor-auth').start({ auth: true });
    ab = await browser();
  });
  after(async () => {
    if (ab) await ab.close();
    if (arig) await arig.stop();
  });

  it('asks for a token, refuses a bad one, and works with a viewer token', async () => {
    const viewer = arig.agent('watcher', '--skills', 'none', '--capacity', 'chat=0', '--role', 'viewer');
    const page = await ab.newPage();
    page.setDefaultTimeout(15000);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(arig.url + '/monitor/');
    await page.waitForSelector('#login:not([hidden])');
    assert.ok(await page.isHidden('#app'));
    await screenshot(page, 'monitor-login');
    await page.fill('#token', 'not-a-token');
    await page.click('#login button[type="submit"]');
    await page.waitForFunction(() => /did not accept/.test(document.getElementById('login-error').textContent));
    await page.fill('#token', viewer);
    await page.click('#login button[type="submit"]');
    await page.waitForSelector('#status.live');
    assert.strictEqual(await page.evaluate(() => sessionStorage.getItem('ctx.token')), viewer);
    const w = await new RawWriter(arig.redisPort).open();
    const it1 = rawItem('auth1', { text: 'Acme support is great, thanks!' });
    await w.send([it1]);
    w.close();
    await page.waitForSelector(`#items li[data-id="${it1.id}"]`);
    // a reload keeps the token for the session
    await page.reload();
    await page.waitForSelector(`#items li[data-id="${it1.id}"]`);
    assert.ok(await page.isHidden('#login'));
    assert.deepStrictEqual(errors, []);
    await page.close();
  });
});
