// lib.js -- real parts for the browser tests: a redis-server and a ctxd on
// free loopback ports in a temporary folder (stopped by PID at the end),
// ctxctl, and Debian's Chromium driven by playwright-core.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
const CTXD = path.join(ROOT, process.env.CTXD || 'bin/ctxd');
const CTXCTL = path.join(ROOT, process.env.CTXD && process.env.CTXD.includes('bin-san')
  ? 'bin-san/ctxctl' : 'bin/ctxctl');
const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');

// Listening ports are picked at random below the kernel's ephemeral range
// (32768-60999): a port handed out by listen(0) may be taken, before ctxd or
// Redis binds it, by an outgoing connection of a test running alongside.
const givenPorts = new Set();
function tryListen(p) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
async function freePort() {
  for (;;) {
    const p = 10000 + Math.floor(Math.random() * 20000);
    if (givenPorts.has(p)) continue;
    if (await tryListen(p)) { givenPorts.add(p); return p; }
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred, timeoutMs = 10000, what = 'condition', stepMs = 50) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

function portOpen(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

// A redis-server and a ctxd with the given config additions.
class Rig {
  constructor(name) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `ctx-browser-${name}-`));
    this.procs = [];
  }

  async start(config = {}) {
    this.redisPort = await freePort();
    this.port = await freePort();
    const redis = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(this.redisPort),
      '--dir', this.dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    this.procs.push(redis);
    await waitFor(() => portOpen(this.redisPort), 10000, 'redis-server');
    this.config = path.join(this.dir, 'ctxd.json');
    const cfg = Object.assign({
      listen: `127.0.0.1:${this.port}`, redis: `127.0.0.1:${this.redisPort}`,
      rules: path.join(ROOT, 'etc', 'rules'), lexicons: path.join(ROOT, 'etc', 'lexicons'),
      www: path.join(ROOT, 'ws', 'www'), log_level: 'info', sources: [],
    }, config);
    fs.writeFileSync(this.config, JSON.stringify(cfg, null, 2));
    this.log = path.join(this.dir, 'ctxd.log');
    const out = fs.openSync(this.log, 'a');
    this.ctxd = spawn(CTXD, ['-c', this.config], { stdio: ['ignore', out, out] });
    this.procs.push(this.ctxd);
    // a ctxd that cannot start (no such binary) or exits at once fails the
    // rig now, with its log, instead of a wait for its port
    let gone = null;
    this.ctxd.on('error', (e) => { gone = `${CTXD}: ${e.message}`; });
    this.ctxd.on('exit', (code, sig) => { gone = gone || `ctxd exited (${code ?? sig}): ${this.logText()}`; });
    try {
      await waitFor(() => {
        if (gone) throw new Error(gone);
        return portOpen(this.port);
      }, 10000, 'ctxd');
    } catch (e) {
      await this.stop();      // the caller has no rig to stop: leave no redis-server behind
      throw e;
    }
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  logText() {
    try { return fs.readFileSync(this.log, 'utf8').slice(-2000); } catch (e) { return ''; }
  }

  ctxctl(...args) {
    return execFileSync(CTXCTL, ['-c', this.config, ...args], { encoding: 'utf8' });
  }

  // Creates an agent and returns its login token.
  agent(id, ...args) {
    const out = this.ctxctl('agent', 'add', id, '--name', id[0].toUpperCase() + id.slice(1), ...args);
    return out.trim().split('\n').pop();
  }

  redis(...args) {
    return execFileSync('redis-cli', ['-p', String(this.redisPort), ...args], { encoding: 'utf8' }).trim();
  }

  // Stores an already tagged item as the analyze role does: store/tag.lua
  // itself (item hash, tagged stream, the indexes of ctxd/analyze.c and
  // store/KEYS.md), with no raw entry to ack.
  // For tests that need tags the analyzer's cues should not decide (a
  // complaint, say). Waits first for the consumer groups ctxd makes at start:
  // "analyze" on the raw stream (tag.lua acks there) and, when the config
  // has queues, "route" on the tagged stream (made at "$", so an entry
  // written before it would never be escalated). Returns the stream id.
  async storeTagged(item) {
    const groups = (stream) => {
      try { return this.redis('XINFO', 'GROUPS', stream); } catch (e) { return ''; }
    };
    await waitFor(() => /\banalyze\b/.test(groups('ctx:{i}:items:raw')), 10000, 'group analyze');
    const cfg = JSON.parse(fs.readFileSync(this.config, 'utf8'));
    if ((cfg.queues || []).length)
      await waitFor(() => /\broute\b/.test(groups('ctx:{i}:items:tagged')), 10000, 'group route');
    const tags = item.tags || {};
    const label = (tags.sentiment && tags.sentiment.label) || 'neutral';
    const c = tags.complaint;     // none: tagged before complaints were, in no complaint index
    const keys = ['ctx:{i}:items:raw', `ctx:{i}:item:${item.id}`, 'ctx:{i}:items:tagged', 'ctx:{i}:idx:all',
      `ctx:{i}:idx:sentiment:${label}`, ...(c ? [`ctx:{i}:idx:complaint:${c.label === true}`] : []),
      ...(tags.brands || []).map((x) => `ctx:{i}:idx:brand:${x}`),
      ...(tags.topics || []).map((x) => `ctx:{i}:idx:topic:${x}`),
      ...(c && c.label === true ? (c.reasons || []).map((x) => `ctx:{i}:idx:reason:${x}`) : [])];
    const published = Date.parse(item.published);
    const script = fs.readFileSync(path.join(ROOT, 'store', 'tag.lua'), 'utf8');
    const sid = this.redis('EVAL', script, String(keys.length), ...keys, 'analyze', '0-0', item.id,
      JSON.stringify(item), String(Number.isNaN(published) ? Date.now() : published), '100000');
    if (!/^\d+-\d+$/.test(sid)) throw new Error(`tag.lua did not store ${item.id}: ${sid}`);
    return sid;
  }

  async stop() {
    for (const p of this.procs.reverse()) {
      if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) {
        p.kill('SIGTERM');
        let timer;
        await Promise.race([new Promise((r) => p.once('exit', r)),
          new Promise((r) => { timer = setTimeout(r, 10000); })]);
        clearTimeout(timer);    // a pending timer would keep node alive 10 s more
        if (p.exitCode === null) p.kill('SIGKILL');
      }
    }
    const text = fs.existsSync(this.log) ? fs.readFileSync(this.log, 'utf8') : '';
    if (!process.env.CTX_KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
    for (const bad of ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:'])
      if (text.includes(bad)) throw new Error(`ctxd reported ${bad}:\n${text.slice(text.indexOf(bad) - 200)}`);
    return text;
  }
}

// Debian's Chromium, headless, as the machine notes say it must be started.
async function browser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // an artifact to look at, not a check: a loaded machine (make test runs the
  // suites side by side) can take longer than playwright's 15 s to paint a page
  // of 300 mentions, so it gets a minute
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true, timeout: 60000 });
}

module.exports = { ROOT, Rig, browser, screenshot, waitFor, sleep, freePort };
