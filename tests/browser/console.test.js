// The agent console in Chromium against a real ctxd and redis-server: an
// angry Mastodon mention (served by a loopback Mastodon) is offered,
// accepted, answered and posted back; a reload and a dropped websocket
// both get the task back; a closed page re-queues its task to another
// agent; script-bearing text is shown as text and runs nothing; a complaint
// is escalated by its rule and shows its badge and reasons.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Rig, browser, screenshot, waitFor } = require('./lib');
const { FakeMastodon } = require('./fake_mastodon');

const LONG = 20000;    // upper bound for anything that should happen in well under a second

function config(masto, extra = {}) {
  return Object.assign({
    sources: [{ name: 'masto', kind: 'mastodon', url: masto.url, tag: 'acme', token: 't',
      every: '0.3s' }],
    queues: [{ name: 'social', offer_timeout: '60s', wrapup: '30s',
      channels: ['social', 'chat', 'callback'] },
    { name: 'billing', channels: ['social', 'chat', 'callback'] }],
    escalation: [{ queue: 'social', sentiment: 'negative' }],
    presence_grace: '1s',
  }, extra);
}

async function openConsole(b, rig, token, { available = true } = {}) {
  const page = await b.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
  });
  page.on('response', (r) => {   // the browser asks for /favicon.ico by itself
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(r.status() + ' ' + r.url());
  });
  page.problems = problems;
  await page.goto(rig.url + '/console/');
  await page.getByLabel('Agent token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#state-switch').waitFor({ state: 'visible', timeout: LONG });
  assert.ok(await page.locator('#login').isHidden(), 'the login form is gone');
  if (available) await setAvailable(page);
  return page;
}

async function setAvailable(page) {
  await page.getByRole('button', { name: 'Available' }).click();
  await page.locator('#state.available').waitFor({ timeout: LONG });
}

test('an angry Mastodon mention: offered, accepted, answered, posted back', async () => {
  const masto = await new FakeMastodon().start();
  const angry = masto.add('My @acme order never arrived, terrible service, I am furious',
    { acct: 'dora', displayName: 'Dora Diaz', followers: 4321 });
  masto.add('Lovely day with my acme kettle, great kettle', { acct: 'bob' });
  const rig = await new Rig('console-reply').start(config(masto));
  const b = await browser();
  try {
    const token = rig.agent('ann', '--skills', 'billing:80');
    const page = await openConsole(b, rig, token);
    assert.match(await page.locator('#who').textContent(), /Ann/);

    const offer = page.locator('#offers li.offer');
    await offer.waitFor({ timeout: LONG });
    assert.match(await offer.textContent(), /never arrived, terrible service/);
    assert.match(await offer.locator('.countdown').textContent(), /^\d+ s$/);
    await screenshot(page, 'console-offer');

    // `a` accepts the newest offer; its tab opens with the post
    await page.keyboard.press('a');
    const panel = page.locator('.panel:not([hidden])');
    await panel.waitFor({ timeout: LONG });
    await page.locator('#offers li.offer').waitFor({ state: 'detached', timeout: LONG });
    const tab = page.getByRole('tab');
    assert.match(await tab.textContent(), /Dora Diaz/);
    assert.strictEqual(await panel.locator('.author').textContent(), 'Dora Diaz');
    assert.match(await panel.locator('.meta').textContent(), /4321 followers/);
    assert.match(await panel.locator('.network').textContent(), /mastodon/);
    assert.strictEqual(await panel.locator('a.link').getAttribute('href'), angry.url);
    assert.match(await panel.locator('.badge.negative').textContent(), /negative -0\.\d+/);
    assert.match(await panel.locator('.tag.brand').first().textContent(), /acme/);

    // a reload logs in again from sessionStorage and gets the task back (resume)
    await page.reload();
    await page.locator('.panel:not([hidden]) .author').waitFor({ timeout: LONG });
    assert.strictEqual(await page.getByRole('tab').count(), 1);

    // a dropped websocket reconnects by itself and gets the task back
    const connected = page.locator('#conn', { hasText: /^connected$/ });
    await connected.waitFor({ timeout: LONG });
    await page.evaluate(() => ws.close()); // eslint-disable-line no-undef
    await page.locator('#conn', { hasText: /reconnecting/ }).waitFor({ timeout: LONG });
    await connected.waitFor({ timeout: LONG });
    assert.strictEqual(await page.getByRole('tab').count(), 1);

    // `r` focuses the reply box, Ctrl+Enter sends
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('r');
    assert.strictEqual(await page.evaluate(() => document.activeElement.className), 'reply-text');
    await page.keyboard.type('We are sorry! DM us your order number.');
    await page.keyboard.press('Control+Enter');
    const status = page.locator('.panel:not([hidden]) .reply-status');
    await status.filter({ hasText: /^posted/ }).waitFor({ timeout: LONG });
    const made = masto.replies();
    assert.strictEqual(made.length, 1, JSON.stringify(made));
    assert.strictEqual(made[0].in_reply_to_id, angry.id);
    assert.strictEqual(made[0].content, 'We are sorry! DM us your order number.');
    assert.ok(made[0].idempotency_key, 'an Idempotency-Key was sent');
    assert.match(await status.textContent(), new RegExp('posted \\(' + made[0].id + '\\)'));
    await screenshot(page, 'console-posted');

    // `d` (not while typing) finishes the task; the wrap-up shows
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('d');
    await page.getByRole('tab').waitFor({ state: 'detached', timeout: LONG });
    await page.locator('#state.wrapup').waitFor({ timeout: LONG });
    assert.match(await page.locator('#state').textContent(), /wrap-up \d+ s/);
    await screenshot(page, 'console-wrapup');
    const st = rig.ctxctl('agents');
    assert.match(st, /ann/);
    assert.deepStrictEqual(page.problems, []);
  } finally {
    await b.close();
    await rig.stop();
    await masto.stop();
  }
});

test('closing the agent page re-queues the task to another agent', async () => {
  const masto = await new FakeMastodon().start();
  masto.add('Acme cloud is down again, awful, this outage ruined my day', { acct: 'eve' });
  const rig = await new Rig('console-requeue').start(config(masto));
  const b = await browser();
  try {
    const annToken = rig.agent('ann');
    const bobToken = rig.agent('bob');
    const bob = await openConsole(b, rig, bobToken, { available: false });
    const ann = await openConsole(b, rig, annToken);
    await ann.locator('#offers li.offer').waitFor({ timeout: LONG });
    await ann.getByRole('button', { name: 'Accept' }).click();
    await ann.locator('.panel:not([hidden]) .author').waitFor({ timeout: LONG });
    // transfer menu comes from /api/queues
    assert.deepStrictEqual(await ann.locator('.panel:not([hidden]) select option').allTextContents(),
      ['billing']);
    await setAvailable(bob);
    await ann.close();
    // after presence_grace (1s) the task goes back to its queue; bob gets it
    const offer = bob.locator('#offers li.offer');
    await offer.waitFor({ timeout: LONG });
    assert.match(await offer.textContent(), /ruined my day/);
    await offer.getByRole('button', { name: 'Accept' }).click();
    await bob.locator('.panel:not([hidden]) .author').waitFor({ timeout: LONG });
    assert.match(await bob.getByRole('tab').textContent(), /Eve/);
    await screenshot(bob, 'console-requeued');
    // bob transfers it to billing: the tab goes, the task waits in billing
    await bob.getByRole('button', { name: 'Transfer' }).click();
    await bob.getByRole('tab').waitFor({ state: 'detached', timeout: LONG });
    const q = await waitFor(async () => {
      const r = await fetch(rig.url + '/api/queues');
      const j = await r.json();
      const billing = j.queues.find((x) => x.name === 'billing');
      return billing && billing.waiting + billing.offered + billing.assigned === 1 ? billing : null;
    }, LONG, 'the task in billing');
    assert.ok(q);
    assert.deepStrictEqual(bob.problems, []);
  } finally {
    await b.close();
    await rig.stop();
    await masto.stop();
  }
});

test('script-bearing text is shown as text and runs nothing', async () => {
  const hostile = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';
  const masto = await new FakeMastodon().start();
  masto.add('Acme is terrible, broken again ' + hostile,
    { acct: 'mallory', displayName: '<img src=x onerror="window.__pwned=3">Mal' });
  const rig = await new Rig('console-xss').start(config(masto));
  const b = await browser();
  try {
    const page = await openConsole(b, rig, rig.agent('ann'));
    const offer = page.locator('#offers li.offer');
    await offer.waitFor({ timeout: LONG });
    assert.ok((await offer.textContent()).includes(hostile), await offer.textContent());
    await offer.getByRole('button', { name: 'Accept' }).click();
    const text = page.locator('.panel:not([hidden]) .post .text');
    await text.waitFor({ timeout: LONG });
    assert.ok((await text.textContent()).includes(hostile));
    assert.ok((await text.innerText()).includes(hostile), 'the characters are visible');
    assert.strictEqual(await page.locator('.panel img, #offers img').count(), 0);
    assert.strictEqual(await page.locator('.panel script').count(), 0);
    assert.strictEqual(await page.locator('.panel .author').textContent(),
      '<img src=x onerror="window.__pwned=3">Mal');
    assert.strictEqual(await page.evaluate(() => window.__pwned), undefined);
    await screenshot(page, 'console-hostile');
  } finally {
    await b.close();
    await rig.stop();
    await masto.stop();
  }
});

// A complaint, stored already tagged (as the analyze role stores it) so the
// test does not hang on the analyzer's cues: the escalation rule
// "complaint": true routes it, though its sentiment is neutral, and the
// console shows the badge and the reasons in the offer and on the task.
test('a complaint: escalated by the complaint rule, badge and reasons on the task', async () => {
  const rig = await new Rig('console-complaint').start({
    queues: [{ name: 'social', channels: ['social', 'chat', 'callback'] },
      { name: 'complaints', offer_timeout: '60s', channels: ['social'] }],
    escalation: [{ name: 'complaint', queue: 'complaints', complaint: true, priority: 4 },
      { name: 'unhappy', queue: 'social', sentiment: 'negative' }],
  });
  const b = await browser();
  const now = new Date().toISOString();
  const post = (n, text, complaint) => ({
    id: `mastodon:social.example:${n}`, source: 'masto', kind: 'social',
    url: `https://social.example/@carol/${n}`,
    author: { handle: '@carol@social.example', name: 'Carol Chen', followers: 87 },
    title: null, text, lang: 'en', published: now, fetched: now, reply_to: null,
    tags: { sentiment: { score: 0, label: 'neutral' }, topics: [], brands: ['acme'], urgent: false,
      complaint } });
  try {
    const page = await openConsole(b, rig, rig.agent('ann'));
    const plain = post('c1', 'Acme opened a shop in Leeds.', { score: 0.1, label: false, reasons: [] });
    const complaint = post('c2', 'Day 12 and still no Acme refund, I was charged twice.',
      { score: 0.93, label: true, reasons: ['money', 'delay'] });
    await rig.storeTagged(plain);
    await rig.storeTagged(complaint);

    const offer = page.locator('#offers li.offer');
    await offer.waitFor({ timeout: LONG });
    assert.match(await offer.textContent(), /still no Acme refund/);
    assert.match(await offer.locator('.queue').textContent(), /queue complaints/);
    assert.strictEqual(await offer.locator('.badge.complaint').textContent(), 'complaint');
    // the router reads the tagged stream in order: the complaint's task exists,
    // so the neutral non-complaint before it was read and made none
    assert.strictEqual(rig.redis('HGET', `ctx:{r}:task:social:${complaint.id}`, 'queue'), 'complaints');
    assert.strictEqual(rig.redis('EXISTS', `ctx:{r}:task:social:${plain.id}`), '0');
    assert.strictEqual(await page.locator('#offers li.offer').count(), 1);

    await offer.getByRole('button', { name: 'Accept' }).click();
    const panel = page.locator('.panel:not([hidden])');
    await panel.locator('.post').waitFor({ timeout: LONG });
    const badge = panel.locator('.tags .badge.complaint');
    assert.strictEqual(await badge.textContent(), 'complaint');
    assert.strictEqual(await badge.getAttribute('title'), 'complaint score 0.93');
    assert.deepStrictEqual(await panel.locator('.tags .reasons .reason').allTextContents(), ['money', 'delay']);
    assert.match(await panel.locator('.badge.neutral').textContent(), /neutral 0\.00/);
    assert.strictEqual(await panel.locator('.tag.brand').textContent(), 'acme');
    await screenshot(page, 'console-complaint');
    assert.deepStrictEqual(page.problems, []);
  } finally {
    await b.close();
    await rig.stop();
  }
});

test('an offer left unanswered: revoked, and the server sets the agent away', async () => {
  const rig = await new Rig('console-away').start({
    queues: [{ name: 'support', offer_timeout: '1s', max_no_answer: 1,
      channels: ['social', 'chat', 'callback'] }],
  });
  const b = await browser();
  try {
    const page = await openConsole(b, rig, rig.agent('ann'));
    const r = await fetch(rig.url + '/api/callbacks', { method: 'POST',
      body: JSON.stringify({ phone: '+7 495 123-45-67', name: 'Dan <i>D</i>' }) });
    assert.strictEqual(r.status, 201);
    const offer = page.locator('#offers li.offer.callback');
    await offer.waitFor({ timeout: LONG });
    assert.match(await offer.textContent(), /Dan <i>D<\/i> \+74951234567/);   // stored in E.164
    await offer.waitFor({ state: 'detached', timeout: LONG });
    await page.locator('#state.away').waitFor({ timeout: LONG });
    assert.match(await page.locator('#notice').textContent(), /set away after offers went unanswered/);
    await screenshot(page, 'console-away');
    assert.deepStrictEqual(page.problems, []);
  } finally {
    await b.close();
    await rig.stop();
  }
});
