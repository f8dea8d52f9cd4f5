#!/usr/bin/env node
// monitor_frames.js -- frame times of the live monitor page under load.
//
// Starts redis-server and ctxd (the browser tests' Rig), opens /monitor/ in
// Debian's headless Chromium, and records in the page every
// requestAnimationFrame delta and every long task (PerformanceObserver,
// tasks over 50 ms). Then it feeds raw items into ctx:{i}:items:raw (the
// analyzer tags them and the monitor streams them to the page):
//   idle    -- nothing, for a baseline;
//   steady  -- 1,000 items a minute (in 100 ms ticks);
//   burst   -- 5,000 items in 10 s;
// and prints, per phase, the frame-time p50/p99/max, the frames over 50 ms,
// and the longest task. The phase ends when the page has received every
// item of it (so catching up is measured too).
//
//   cd tests/browser && npm ci      # once: playwright-core
//   make && node bench/monitor_frames.js [--steady-seconds 60] [--burst 5000] [--burst-seconds 10]
//
// Frame times in headless Chromium follow its 60 Hz begin-frame clock: an
// idle page shows ~16.7 ms. The machine is shared with ctxd and Redis, which
// tag and stream the same items at the same time.
'use strict';
const path = require('node:path');
const B = path.join(__dirname, '..', 'tests', 'browser');
const { Rig, browser, sleep } = require(path.join(B, 'lib.js'));
const { RawWriter, rawItem } = require(path.join(B, 'feed_server.js'));

function arg(name, dflt) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const STEADY_S = arg('steady-seconds', 60);
const STEADY_PER_MIN = arg('per-minute', 1000);
const BURST_N = arg('burst', 5000);
const BURST_S = arg('burst-seconds', 10);
const IDLE_S = arg('idle-seconds', 5);

const TEXTS = [
  'Acme Cloud is down again, terrible', 'Acme support is great, thanks!',
  'Acme released a new version today.', 'Initech billing is awful and broken',
  'Globex shipped version 4 of the app today.', 'Сервис Acme ужасный, всё сломано',
];
let seq = 0;
function next() {
  const n = ++seq;
  const id = n % 4 === 0 ? `mastodon:social.example:${n}` : `feed:bench:${n}`;
  return rawItem(n, { id, text: `${TEXTS[n % TEXTS.length]} (#${n}, ${Math.random().toString(36).slice(2)})`,
    title: n % 3 === 0 ? `Post ${n}` : null });
}

// In the page: rAF deltas and long tasks, reset per phase.
function instrument() {
  window.__bench = { deltas: [], long: [] };
  let last = performance.now();
  const tick = (t) => { window.__bench.deltas.push(t - last); last = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__bench.long.push(e.duration); })
    .observe({ type: 'longtask', buffered: false });
}

const received = (page) => page.evaluate(() => Number(document.getElementById('n-received').textContent));

async function phase(page, name, feed) {
  await page.evaluate(() => { window.__bench.deltas = []; window.__bench.long = []; });
  const start = Date.now();
  const before = await received(page);
  const sent = await feed();
  const fed = Date.now() - start;
  // wait until the page has every item of the phase (at most 2 minutes more)
  const end = Date.now() + 120000;
  while ((await received(page)) < before + sent && Date.now() < end) await sleep(100);
  const got = (await received(page)) - before;
  const total = Date.now() - start;
  const { deltas, long } = await page.evaluate(() => window.__bench);
  const d = deltas.slice(1).sort((a, b) => a - b);
  const q = (p) => (d.length ? d[Math.min(d.length - 1, Math.floor(p * d.length))] : NaN);
  const shown = await page.evaluate(() => document.querySelectorAll('#items li').length);
  return { name, sent, got, fedS: fed / 1000, totalS: total / 1000, frames: d.length,
    p50: q(0.5), p99: q(0.99), max: d.length ? d[d.length - 1] : NaN,
    over50: d.filter((x) => x > 50).length, longTasks: long.length,
    longest: long.length ? Math.max(...long) : 0, shown };
}

async function paced(writer, perSecond, seconds) {
  const tickMs = 100;
  const t0 = Date.now();
  let sent = 0;
  while (Date.now() - t0 < seconds * 1000) {
    const due = Math.floor(((Date.now() - t0) / 1000) * perSecond);
    const batch = [];
    while (sent + batch.length < due) batch.push(next());
    if (batch.length) await writer.send(batch);
    sent += batch.length;
    await sleep(tickMs);
  }
  const total = Math.round(perSecond * seconds);
  const rest = [];
  while (sent + rest.length < total) rest.push(next());
  if (rest.length) await writer.send(rest);
  return sent + rest.length;
}

(async () => {
  const rig = await new Rig('bench-monitor').start({});
  const b = await browser();
  const results = [];
  try {
    const writer = await new RawWriter(rig.redisPort).open();
    const page = await b.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(rig.url + '/monitor/');
    await page.waitForSelector('#status.live');
    await page.evaluate(instrument);
    results.push(await phase(page, 'idle', async () => { await sleep(IDLE_S * 1000); return 0; }));
    results.push(await phase(page, `steady ${STEADY_PER_MIN}/min for ${STEADY_S} s`,
      () => paced(writer, STEADY_PER_MIN / 60, STEADY_S)));
    results.push(await phase(page, `burst ${BURST_N} in ${BURST_S} s`,
      () => paced(writer, BURST_N / BURST_S, BURST_S)));
    writer.close();
  } finally {
    await b.close();
    await rig.stop();
  }
  const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
  console.log('monitor page frame times, headless Chromium (/usr/bin/chromium), list capped at 300');
  console.log('phase                         items  recv   fed s  done s  frames  p50 ms  p99 ms  max ms  >50ms  longtasks  longest ms  shown');
  for (const r of results)
    console.log(`${r.name.padEnd(28)} ${String(r.sent).padStart(6)} ${String(r.got).padStart(5)} ${f(r.fedS).padStart(7)} ${f(r.totalS).padStart(7)} ${String(r.frames).padStart(7)} ${f(r.p50).padStart(7)} ${f(r.p99).padStart(7)} ${f(r.max).padStart(7)} ${String(r.over50).padStart(6)} ${String(r.longTasks).padStart(10)} ${f(r.longest).padStart(11)} ${String(r.shown).padStart(6)}`);
})().catch((e) => { console.error(e); process.exit(1); });
