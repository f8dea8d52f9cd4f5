// The supervisor view (/supervisor/) in Chromium against a real ctxd and
// redis-server with auth on: a supervisor token logs in, other tokens are
// refused; the queues and agents tables show the figures and follow a
// callback request as it is queued, offered to an agent and accepted; and
// with the queue_stats frames held back the page keeps itself current by
// polling /api/queues and /api/agents.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert');
const WebSocket = require('ws');
const { Rig, browser, screenshot } = require('./lib');

let rig, b, supToken, annToken, viewerToken;

async function openPage(options = {}) {
  const page = await b.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15000);
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    const where = m.location().url || '';
    if (m.type() === 'error' && !where.endsWith('/favicon.ico') && !options.allowErrors)
      page.problems.push(`console: ${m.text()} ${where}`);
  });
  return page;
}

async function closePage(page) {
  const problems = page.problems;
  await page.close();
  assert.deepStrictEqual(problems, [], 'no script errors or CSP violations in the page');
}

async function login(page, token) {
  await page.goto(rig.url + '/supervisor/');
  await page.waitForSelector('#login:not([hidden])');
  await page.fill('#token', token);
  await page.click('#login button[type="submit"]');
}

// the text of a cell of the row for `key` in table `table`, by data-f
const cell = (page, table, key, f) =>
  page.$eval(`#${table} tr[data-key="${key}"] td[data-f="${f}"]`, (c) => c.textContent);
const waitCell = (page, table, key, f, want) =>
  page.waitForFunction(([t, k, ff, w]) => {
    const c = document.querySelector(`#${t} tr[data-key="${k}"] td[data-f="${ff}"]`);
    return c && (w instanceof RegExp ? w.test(c.textContent) : new RegExp(w).test(c.textContent));
  }, [table, key, f, want]);

async function callback(name, queue = 'support') {
  const r = await fetch(rig.url + '/api/callbacks', { method: 'POST',
    body: JSON.stringify({ phone: '+7 495 123-45-67', name, queue }) });
  assert.strictEqual(r.status, 201);
  return (await r.json()).task;
}

// An agent over /ws/agent, as the console would be.
function agentSocket(token) {
  const ws = new WebSocket(rig.url.replace('http', 'ws') + '/ws/agent', 'ctx.agent.v1');
  const frames = [];
  const waiters = [];
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    frames.push(m);
    for (const w of waiters.slice()) if (w.pred(m)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
  });
  const next = (pred) => {
    const got = frames.find(pred);
    return got ? Promise.resolve(got) : new Promise((resolve) => waiters.push({ pred, resolve }));
  };
  const send = (m) => ws.send(JSON.stringify(m));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, send, next }));
    ws.once('error', reject);
  });
}

describe('supervisor', () => {
  before(async () => {
    rig = await new Rig('supervisor').start({
      auth: true,
      queues: [{ name: 'support', sla: '30s' }, { name: 'sales', sla: '60s' }],
    });
    supToken = rig.agent('sue', '--skills', 'lead', '--capacity', 'chat=1', '--role', 'supervisor');
    annToken = rig.agent('ann', '--skills', 'support', '--capacity', 'chat=2,social=3,callback=1');
    viewerToken = rig.agent('vic', '--skills', 'none', '--capacity', 'chat=0', '--role', 'viewer');
    b = await browser();
  });

  after(async () => {
    if (b) await b.close();
    if (rig) await rig.stop();
  });

  it('refuses tokens that are not a supervisor\'s', async () => {
    const page = await openPage({ allowErrors: true });   // the 401/403 answers log console errors
    for (const [tok, why] of [['nonsense', /did not accept/], [viewerToken, /not a supervisor/],
      [annToken, /not a supervisor/]]) {
      await login(page, tok);
      await page.waitForFunction((w) => new RegExp(w).test(document.getElementById('login-error').textContent), why.source);
      assert.ok(await page.isHidden('#app'));
    }
    await screenshot(page, 'supervisor-login');
    await closePage(page);
    // the refused agent token did not count as ann connecting
    const r = await (await fetch(rig.url + '/api/agents', { headers: { Authorization: 'Bearer ' + supToken } })).json();
    assert.strictEqual(r.agents.find((a) => a.id === 'ann').connected, false);
  });

  it('shows queues and agents live as a task is queued, offered and accepted', async () => {
    const page = await openPage();
    await login(page, supToken);
    await page.waitForSelector('#app:not([hidden])');
    await waitCell(page, 'queues', 'support', 'waiting', '^0$');
    assert.strictEqual(await cell(page, 'queues', 'sales', 'waiting'), '0');
    assert.match(await page.textContent('#queues tr[data-key="support"]'), /within 30 s/);
    await waitCell(page, 'agents', 'ann', 'connected', '^no$');
    await waitCell(page, 'agents', 'sue', 'connected', '^no$');    // watching is not taking tasks
    // the figures come from the queue_stats frames
    await page.waitForFunction(() => document.getElementById('updated').dataset.source === 'live');

    const task = await callback('Dan');
    await waitCell(page, 'queues', 'support', 'waiting', '^1$');
    await screenshot(page, 'supervisor-waiting');

    const ann = await agentSocket(annToken);
    ann.send({ type: 'hello', token: annToken });
    await ann.next((m) => m.type === 'welcome');
    ann.send({ type: 'state', state: 'available' });
    const offer = await ann.next((m) => m.type === 'offer');
    assert.strictEqual(offer.task.id, task.id);
    await waitCell(page, 'queues', 'support', 'offered', '^1$');
    await waitCell(page, 'agents', 'ann', 'connected', '^yes$');
    await page.waitForSelector(`#agents tr[data-key="ann"] [data-task="${task.id}"]`);

    ann.send({ type: 'accept', task: task.id });
    await waitCell(page, 'queues', 'support', 'assigned', '^1$');
    assert.strictEqual(await cell(page, 'queues', 'support', 'waiting'), '0');
    await waitCell(page, 'agents', 'ann', 'load', '1/1');           // callback 1 of 1
    await waitCell(page, 'queues', 'support', 'asa', 's$');         // an answer time now
    await screenshot(page, 'supervisor');
    ann.ws.close();
    await closePage(page);
  });

  it('keeps itself current by polling when no queue_stats frame comes', async () => {
    const page = await openPage();
    // hold back every queue_stats frame on the page's /ws/agent
    await page.routeWebSocket(/\/ws\/agent$/, (wsr) => {
      const server = wsr.connectToServer();
      wsr.onMessage((m) => server.send(m));
      server.onMessage((m) => { if (!String(m).includes('"queue_stats"')) wsr.send(m); });
    });
    await login(page, supToken);
    await page.waitForSelector('#app:not([hidden])');
    // nobody takes calls from "sales" (ann has gone, sue is a supervisor), so it stays 0 until
    await waitCell(page, 'queues', 'sales', 'waiting', '^0$');
    await callback('Eve', 'sales');
    await waitCell(page, 'queues', 'sales', 'waiting', '^1$');
    assert.strictEqual(await page.$eval('#updated', (e) => e.dataset.source), 'poll');
    await closePage(page);
  });
});
