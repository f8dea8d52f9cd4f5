// The customer chat widget (/chat/) and the agent console in Chromium,
// against a real ctxd and redis-server: a customer starts a chat, an agent
// accepts it, they exchange messages both ways, the agent finishes it and
// the customer sees the chat closed. Hostile text stays text on both sides.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Rig, browser, screenshot } = require('./lib');

const LONG = 20000;

function watch(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(r.status() + ' ' + r.url());
  });
  return problems;
}

test('a customer chats with an agent, both ways, until the agent is done', async () => {
  const rig = await new Rig('chat').start({
    queues: [{ name: 'support', offer_timeout: '60s', channels: ['chat', 'social', 'callback'] }],
    chat_queue: 'support',
    presence_grace: '1s',
  });
  const b = await browser();
  try {
    const token = rig.agent('ann', '--name', 'Ann Lee');
    const agent = await b.newPage();
    const agentProblems = watch(agent);
    await agent.goto(rig.url + '/console/');
    await agent.getByLabel('Agent token').fill(token);
    await agent.getByRole('button', { name: 'Log in' }).click();
    await agent.getByRole('button', { name: 'Available' }).click();
    await agent.locator('#state.available').waitFor({ timeout: LONG });

    const cust = await b.newPage();
    const custProblems = watch(cust);
    await cust.goto(rig.url + '/chat/');
    await screenshot(cust, 'chat-start');
    await cust.getByLabel('Your name').fill('Carol <b>C</b>');
    await cust.getByLabel('Language').selectOption('en');
    await cust.getByLabel('How can we help?').fill('Hello, my order is late');
    await cust.getByRole('button', { name: 'Start chat' }).click();
    await cust.locator('#log .msg.me').waitFor({ timeout: LONG });
    assert.ok(await cust.locator('#start').isHidden(), 'the start form is gone');

    // the agent gets the offer with the chat so far, and accepts it
    const offer = agent.locator('#offers li.offer.chat');
    await offer.waitFor({ timeout: LONG });
    assert.match(await offer.textContent(), /Carol <b>C<\/b>/);
    // the chat is queued with its first message: the offer's preview has it
    assert.strictEqual(await offer.locator('.preview q').textContent(), 'Hello, my order is late');
    await offer.getByRole('button', { name: 'Accept' }).click();
    const log = agent.locator('.panel:not([hidden]) ol.conversation');
    await log.waitFor({ timeout: LONG });
    await log.locator('.msg.customer .body', { hasText: 'Hello, my order is late' })
      .waitFor({ timeout: LONG });

    // the customer sees the agent join, by name
    await cust.locator('#log .sys', { hasText: 'Ann Lee joined the chat.' }).waitFor({ timeout: LONG });
    assert.match(await cust.locator('#status').textContent(), /talking to Ann Lee/);

    // agent -> customer (hostile text stays text)
    const hostile = 'Sorry! <img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    await agent.getByLabel(/Message to/).fill(hostile);
    await agent.getByRole('button', { name: 'Send' }).click();
    const got = cust.locator('#log .msg.agent .body');
    await got.waitFor({ timeout: LONG });
    assert.strictEqual(await got.textContent(), hostile);
    assert.strictEqual(await cust.locator('#log .msg.agent .name').textContent(), 'Ann Lee');

    // customer -> agent, Enter sends
    await cust.getByLabel('Message').fill('Thanks, it is order 42 <i>urgent</i>');
    await cust.getByLabel('Message').press('Enter');
    await log.locator('.msg.customer .body', { hasText: 'order 42' })
      .waitFor({ timeout: LONG });
    assert.strictEqual(await log.locator('.msg.customer .body').last().textContent(),
      'Thanks, it is order 42 <i>urgent</i>');
    assert.strictEqual(await log.locator('.msg').count(), 3);
    for (const p of [agent, cust]) {
      assert.strictEqual(await p.locator('.msg img, .msg i, .msg b').count(), 0);
      assert.strictEqual(await p.evaluate(() => window.__pwned), undefined);
    }
    await screenshot(cust, 'chat-customer');
    await screenshot(agent, 'console-chat');

    // the agent is done: the customer sees the chat closed
    await agent.getByRole('button', { name: 'Done' }).click();
    await cust.locator('#status.closed').waitFor({ timeout: LONG });
    assert.ok(await cust.locator('#text').isDisabled());
    await screenshot(cust, 'chat-closed');
    assert.deepStrictEqual(agentProblems, []);
    assert.deepStrictEqual(custProblems, []);
  } finally {
    await b.close();
    await rig.stop();
  }
});

test('the agent hears when the customer leaves', async () => {
  const rig = await new Rig('chat-left').start({
    queues: [{ name: 'support', offer_timeout: '60s', channels: ['chat'] }],
  });
  const b = await browser();
  try {
    const token = rig.agent('bob');
    const agent = await b.newPage();
    await agent.goto(rig.url + '/console/');
    await agent.getByLabel('Agent token').fill(token);
    await agent.getByRole('button', { name: 'Log in' }).click();
    await agent.getByRole('button', { name: 'Available' }).click();
    await agent.locator('#state.available').waitFor({ timeout: LONG });
    const cust = await b.newPage();
    await cust.goto(rig.url + '/chat/');
    await cust.getByLabel('Your name').fill('Dan');
    await cust.getByRole('button', { name: 'Start chat' }).click();
    await cust.locator('#status.waiting').waitFor({ timeout: LONG });
    // started without a first message: the widget asks for one, and the
    // chat reaches the agents with it
    await cust.locator('#log .sys', { hasText: 'Tell us how we can help' }).waitFor({ timeout: LONG });
    await cust.getByLabel('Message').fill('Where is my parcel?');
    await cust.getByLabel('Message').press('Enter');
    const offer = agent.locator('#offers li.offer.chat');
    await offer.waitFor({ timeout: LONG });
    assert.strictEqual(await offer.locator('.preview q').textContent(), 'Where is my parcel?');
    await agent.locator('body').click({ position: { x: 5, y: 5 } });
    await agent.keyboard.press('a');
    await agent.locator('.panel:not([hidden]) ol.conversation').waitFor({ timeout: LONG });
    await cust.locator('#status.live').waitFor({ timeout: LONG });
    await cust.getByRole('button', { name: 'End chat' }).click();
    await agent.locator('.panel:not([hidden]) .sys', { hasText: 'The customer left' })
      .waitFor({ timeout: LONG });
    assert.ok(await agent.locator('.panel:not([hidden]) textarea').isDisabled());
    await agent.keyboard.press('d');
    await agent.getByRole('tab').waitFor({ state: 'detached', timeout: LONG });
  } finally {
    await b.close();
    await rig.stop();
  }
});

test('a customer who reloads the page gets the chat back', async () => {
  const rig = await new Rig('chat-reload').start({
    queues: [{ name: 'support', channels: ['chat'] }],
    presence_grace: '20s',
  });
  const b = await browser();
  try {
    const cust = await b.newPage();
    const problems = watch(cust);
    await cust.goto(rig.url + '/chat/');
    await cust.getByLabel('Your name').fill('Fay');
    await cust.getByRole('button', { name: 'Start chat' }).click();
    await cust.locator('#status.waiting').waitFor({ timeout: LONG });
    await cust.locator('#text').fill('My parcel <b>never</b> came');
    await cust.locator('#text').press('Enter');
    await cust.locator('#log li.msg.me', { hasText: 'My parcel <b>never</b> came' }).waitFor({ timeout: LONG });
    await cust.reload();
    await cust.locator('#log .sys', { hasText: 'Reconnected.' }).waitFor({ timeout: LONG });
    await cust.locator('#log li.msg.me', { hasText: 'My parcel <b>never</b> came' }).waitFor({ timeout: LONG });
    assert.ok(await cust.isHidden('#start'));
    // still one chat, still waiting in the queue
    const q = await (await fetch(rig.url + '/api/queues')).json();
    assert.strictEqual(q.queues[0].waiting, 1);
    assert.strictEqual(q.queues[0].abandoned, 0);
    await screenshot(cust, 'chat-resumed');
    assert.deepStrictEqual(problems, []);
  } finally {
    await b.close();
    await rig.stop();
  }
});
