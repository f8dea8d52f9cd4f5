// A voice callback end to end in Chromium with real SIP peers on 127.0.0.1:
// the customer asks in the chat widget's "Call me back" (a bad number gets
// the server's words), the callback is offered in the console and shows
// "When: now" (not "Not before 0"), the agent accepts, ctxd calls the
// agent's softphone and then the customer (baresip over ctrl_tcp; both
// phones are `sipp -sn uas`), the console shows the call talking with its
// timer, Hang up ends it "answered", Done finishes the task, which keeps
// outcome and talk_s. Skipped when baresip or SIPp is not installed.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');
const dgram = require('node:dgram');
const { spawn } = require('node:child_process');
const { Rig, browser, screenshot, waitFor, freePort } = require('./lib');

const LONG = 20000;
const missing = !fs.existsSync('/usr/bin/baresip') ? 'baresip is not installed (make deps: baresip-core)'
  : !fs.existsSync('/usr/bin/sipp') ? 'SIPp is not installed (make deps: sip-tester)' : null;

function portOpen(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

function udpFree(port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function tcpFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

// baresip as the dialer engine (the settings sip.py of the integration tests explains)
function baresip(dir, sipPort, ctrlPort) {
  const d = path.join(dir, 'baresip');
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'config'), [
    'poll_method epoll', `sip_listen 127.0.0.1:${sipPort}`, 'net_interface 127.0.0.1',
    'module_path /usr/lib/baresip/modules', 'module g711.so', 'module aubridge.so', 'module menu.so',
    'module_app account.so', 'module_app ctrl_tcp.so', `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
    'audio_player aubridge,nil', 'audio_source aubridge,nil', 'audio_alert aubridge,nil',
    'ringback_disabled yes', ''].join('\n'));
  fs.writeFileSync(path.join(d, 'accounts'), `<sip:ctxd@127.0.0.1:${sipPort}>;regint=0\n`);
  fs.writeFileSync(path.join(d, 'contacts'), '');
  const log = fs.openSync(path.join(d, 'baresip.log'), 'a');
  return spawn('/usr/bin/baresip', ['-f', d], { stdio: ['ignore', log, log] });
}

function sipp(dir, port, name) {
  return spawn('/usr/bin/sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-nostdin',
    '-trace_msg', '-message_file', path.join(dir, `sipp-${name}.msg`)],
  { stdio: ['ignore', 'ignore', 'ignore'], cwd: dir });
}

test('call me back from the chat widget, dialled from the console, hung up, done', { skip: missing || false },
  async () => {
    const rig = new Rig('voice');
    // baresip takes sipPort for SIP over UDP and TCP and sipPort + 1 for TLS
    const ports = new Set();
    while (ports.size < 4) {
      const p = await freePort();
      if ([...ports].some((q) => Math.abs(q - p) <= 1)) continue;
      if (ports.size === 0 && !(await udpFree(p) && await udpFree(p + 1) && await tcpFree(p + 1))) continue;
      if (ports.size > 0 && !(await udpFree(p))) continue;
      ports.add(p);
    }
    const [sipPort, ctrlPort, agentPort, custPort] = [...ports];
    let b = null;
    try {
      rig.procs.push(baresip(rig.dir, sipPort, ctrlPort), sipp(rig.dir, agentPort, 'agent'),
        sipp(rig.dir, custPort, 'customer'));     // stopped by PID with the rig
      await waitFor(() => portOpen(ctrlPort), 10000, "baresip's ctrl_tcp");
      await rig.start({
        queues: [{ name: 'support', offer_timeout: '60s', channels: ['chat', 'callback'] }],
        dialer: { engine: 'baresip', address: `127.0.0.1:${ctrlPort}`,
          uri: `sip:{digits}@127.0.0.1:${custPort}`, ring_timeout: '5s' },
      });
      b = await browser();
      const token = rig.agent('ann', '--sip', `sip:ann@127.0.0.1:${agentPort}`);
      // the customer: a bad number, then a good one
      const chat = await b.newPage();
      await chat.goto(rig.url + '/chat/');
      await chat.getByText('Prefer a call? We call you back').click();
      await chat.getByLabel('Your phone number, with the country code').fill('495 CALL-ME');
      await chat.getByRole('button', { name: 'Call me back' }).click();
      await chat.locator('#callback-status.bad').waitFor({ timeout: LONG });
      assert.match(await chat.locator('#callback-status').textContent(), /'C' at position 5/);
      await chat.getByLabel('Your phone number, with the country code').fill('+7 (495) 100-00-07');
      await chat.getByRole('button', { name: 'Call me back' }).click();
      await chat.locator('#callback-status.ok').waitFor({ timeout: LONG });
      assert.match(await chat.locator('#callback-status').textContent(), /call you at \+74951000007 shortly/);
      await screenshot(chat, 'chat-call-me-back');

      // the agent
      const page = await b.newPage();
      const problems = [];
      page.on('pageerror', (e) => problems.push(String(e)));
      await page.goto(rig.url + '/console/');
      await page.getByLabel('Agent token').fill(token);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('button', { name: 'Available' }).click();
      const offer = page.locator('#offers li.offer.callback');
      await offer.waitFor({ timeout: LONG });
      await page.keyboard.press('a');                      // accept the newest offer
      const panel = page.locator('section.panel:not([hidden])');
      await panel.locator('.callback-info .when').waitFor({ timeout: LONG });
      assert.strictEqual(await panel.locator('.callback-info .when').textContent(), 'When: now');
      // progressive: ctxd calls ann's softphone, then the customer
      const line = panel.locator('.call-state');
      await panel.locator('.call-state[data-state="talking"]').waitFor({ timeout: LONG });
      assert.match(await line.textContent(), /^Talking 0:0\d$/);
      assert.ok(await panel.getByRole('button', { name: 'Call', exact: true }).isDisabled());
      await page.waitForTimeout(1100);
      assert.match(await line.textContent(), /^Talking 0:0[1-9]$/);       // the timer runs
      await screenshot(page, 'console-call-talking');
      await panel.getByRole('button', { name: 'Hang up' }).click();
      await panel.locator('.call-state[data-state="ended"]').waitFor({ timeout: LONG });
      assert.match(await line.textContent(), /^Ended: answered after 0:0[1-9]$/);
      assert.ok(await panel.getByRole('button', { name: 'Call', exact: true }).isEnabled());
      const id = await panel.getAttribute('data-task');
      await panel.getByRole('button', { name: 'Done' }).click();
      const ids = rig.redis('KEYS', 'ctx:{r}:task:callback:*').split('\n');
      assert.strictEqual(ids.length, 1, ids);
      await waitFor(() => rig.redis('HGET', ids[0], 'state') === 'done', 5000, 'the task done');
      assert.strictEqual(rig.redis('HGET', ids[0], 'outcome'), 'answered');
      assert.ok(Number(rig.redis('HGET', ids[0], 'talk_s')) >= 1, rig.redis('HGETALL', ids[0]));
      assert.strictEqual(ids[0], 'ctx:{r}:task:' + id);
      // the customer's phone got the INVITE for the E.164 digits
      const msgs = fs.readFileSync(path.join(rig.dir, 'sipp-customer.msg'), 'utf8');
      assert.match(msgs, /^INVITE sip:74951000007@127\.0\.0\.1:\d+;ctxleg=/m);
      assert.deepStrictEqual(problems, []);
    } finally {
      if (b) await b.close();
      await rig.stop();
    }
  });
