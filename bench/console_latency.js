#!/usr/bin/env node
// console_latency.js -- how long from a mention entering the raw stream to
// its offer appearing in the agent console's DOM, over N mentions (default
// 100), on real parts: redis-server, ctxd (bin/ctxd, or $CTXD), a loopback
// Mastodon, and the console page in Debian's Chromium.
//
// Start: the raw stream entry's id (its millisecond part is Redis's clock at
// XADD). Entries are deleted once tagged, so the id is read from the analyze
// group's last-delivered-id (XINFO GROUPS), which stays; one mention is in
// flight at a time and entries-added is checked to have grown by exactly one.
// End: Date.now() in the page when the offer's <li> is added to #offers
// (a MutationObserver; same machine, same clock). The split at the
// `offered` routing event (its `at`, ms) separates the server's part
// (analyze + route) from delivery and rendering. A last line measures from
// the moment the loopback Mastodon served the status (fetch, parse, XADD
// included; the poll interval is not).
//
//   make && node bench/console_latency.js [N]
'use strict';
const { execFileSync } = require('node:child_process');
const { Rig, browser } = require('../tests/browser/lib');
const { FakeMastodon } = require('../tests/browser/fake_mastodon');

const N = Number(process.argv[2]) || 100;

// XINFO GROUPS as {name: {field: value}} (redis-cli --raw prints one value a line)
function groups(rig) {
  const out = execFileSync('redis-cli', ['-p', String(rig.redisPort), '--raw', 'XINFO', 'GROUPS',
    'ctx:{i}:items:raw'], { encoding: 'utf8' }).split('\n');
  const res = {};
  let cur = null;
  for (let i = 0; i + 1 < out.length; i += 2) {
    if (out[i] === 'name') { cur = {}; res[out[i + 1]] = cur; }
    if (cur) cur[out[i]] = out[i + 1];
  }
  return res;
}

function entriesAdded(rig) {
  const out = execFileSync('redis-cli', ['-p', String(rig.redisPort), '--raw', 'XINFO', 'STREAM',
    'ctx:{i}:items:raw'], { encoding: 'utf8' }).split('\n');
  const i = out.indexOf('entries-added');
  return i >= 0 ? Number(out[i + 1]) : NaN;
}

function offeredAt(rig, task) {
  const out = execFileSync('redis-cli', ['-p', String(rig.redisPort), '--raw', 'XREVRANGE',
    'ctx:{r}:routing:events', '+', '-', 'COUNT', '50'], { encoding: 'utf8' }).split('\n');
  // entries print as: id, then field/value lines
  for (let i = 0; i < out.length; i++) {
    if (out[i] === 'type' && out[i + 1] === 'offered') {
      let j = i; let t = null; let at = null;
      for (; j < i + 12 && j < out.length; j += 1) {
        if (out[j] === 'task') t = out[j + 1];
        if (out[j] === 'at') at = Number(out[j + 1]);
      }
      if (t === task && at) return at;
    }
  }
  return NaN;
}

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1));
  return sorted[k];
}

function summary(name, xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `  ${name.padEnd(40)} p50 ${pct(s, 50).toFixed(0).padStart(4)} ms   p90 ${pct(s, 90).toFixed(0).padStart(4)} ms` +
    `   p99 ${pct(s, 99).toFixed(0).padStart(4)} ms   max ${s[s.length - 1].toFixed(0).padStart(4)} ms` +
    `   mean ${mean.toFixed(1).padStart(6)} ms`;
}

const WORDS = ['order', 'refund', 'invoice', 'login', 'app', 'checkout', 'delivery', 'account',
  'password', 'payment', 'support', 'update', 'router', 'kettle', 'server', 'dashboard'];
const BAD = ['terrible', 'awful', 'broken', 'useless', 'horrible', 'disappointing', 'the worst'];

const SYL = ['ka', 'lo', 'mir', 'tes', 'van', 'dru', 'pel', 'qua', 'zon', 'fi', 'gor', 'hex',
  'jul', 'nor', 'sib', 'wey', 'yat', 'bro', 'cle', 'dom'];
function word() {
  let w = '';
  for (let k = 2 + Math.floor(Math.random() * 2); k > 0; k--) w += SYL[Math.floor(Math.random() * SYL.length)];
  return w;
}

async function main() {
  const masto = await new FakeMastodon().start();
  const rig = await new Rig('console-latency').start({
    sources: [{ name: 'masto', kind: 'mastodon', url: masto.url, tag: 'acme', token: 't',
      every: '0.2s' }],
    queues: [{ name: 'social', offer_timeout: '60s', channels: ['social'] }],
    escalation: [{ queue: 'social', sentiment: 'negative' }],
  });
  const b = await browser();
  const total = []; const server = []; const deliver = []; const served = [];
  try {
    const token = rig.agent('ann', '--capacity', 'social=5,chat=0,callback=0');
    const page = await b.newPage();
    await page.goto(rig.url + '/console/');
    await page.getByLabel('Agent token').fill(token);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Available' }).click();
    await page.locator('#state.available').waitFor({ timeout: 20000 });
    await page.evaluate(() => {
      window.__offerSeen = {};
      new MutationObserver((muts) => {
        const now = Date.now();
        for (const m of muts) for (const n of m.addedNodes)
          if (n.nodeType === 1 && n.matches('li.offer')) {
            const id = n.getAttribute('data-task');
            if (!(id in window.__offerSeen)) window.__offerSeen[id] = now;
          }
      }).observe(document.getElementById('offers'), { childList: true });
    });
    // the analyze group exists and the source has polled once
    const t0 = Date.now();
    while ((!groups(rig).analyze || masto.gets < 1) && Date.now() - t0 < 20000)
      await new Promise((r) => setTimeout(r, 100));
    let added = entriesAdded(rig);
    for (let i = 0; i < N; i++) {
      const pick = (a) => a[Math.floor(Math.random() * a.length)];
      // made-up words keep the texts far apart (near-duplicates are not escalated)
      const soup = Array.from({ length: 8 }, () => word()).join(' ');
      const st = masto.add(`Acme ${pick(WORDS)} ${pick(BAD)} again, ${soup}, ${pick(WORDS)} ` +
        `${pick(BAD)}, I am so angry`, { acct: 'user' + i, followers: i });
      const task = 'social:mastodon:127.0.0.1:' + st.id;
      const seen = await page.waitForFunction((id) => window.__offerSeen[id], task,
        { timeout: 20000, polling: 20 });
      const shown = await seen.jsonValue();
      const g = groups(rig).analyze;
      const now = entriesAdded(rig);
      if (now !== added + 1) throw new Error(`expected one raw entry, got ${now - added}`);
      added = now;
      const xadd = Number(g['last-delivered-id'].split('-')[0]);
      const off = offeredAt(rig, task);
      total.push(shown - xadd);
      served.push(shown - st.servedAt);
      server.push(off - xadd);
      deliver.push(shown - off);
      // accept and finish it, so the agent is free for the next one
      await page.keyboard.press('a');
      await page.getByRole('tab').waitFor({ timeout: 20000 });
      await page.keyboard.press('d');
      await page.getByRole('tab').waitFor({ state: 'detached', timeout: 20000 });
    }
  } finally {
    await b.close();
    await rig.stop();
    await masto.stop();
  }
  console.log(`== mention -> offer in the agent console (${N} mentions, one at a time; ` +
    `${process.env.CTXD || 'bin/ctxd'}, ${require('node:os').cpus().length} cores)`);
  console.log(summary('raw XADD -> offer in console DOM', total));
  console.log(summary('  raw XADD -> offered (analyze+route)', server));
  console.log(summary('  offered -> DOM (ws + render)', deliver));
  console.log(summary('Mastodon serves it -> offer in DOM', served));
}

main().catch((e) => { console.error(e); process.exit(1); });
