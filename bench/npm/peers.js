// peers.js -- run the benchmark peers on a file of texts, one per line.
//
//   node peers.js score vader|afinn FILE   one score per line on stdout:
//        vader: the compound in [-1, 1]; afinn: sentiment's "comparative"
//        (AFINN score sum / number of tokens)
//   node peers.js speed vader|afinn FILE   time scoring every line (after one
//        warm-up pass) and print "texts bytes seconds" on stdout
'use strict';
const fs = require('fs');

function scorer(which) {
  if (which === 'vader') {
    const vader = require('vader-sentiment');
    return (t) => vader.SentimentIntensityAnalyzer.polarity_scores(t).compound;
  }
  if (which === 'afinn') {
    const Sentiment = require('sentiment');
    const s = new Sentiment();
    return (t) => s.analyze(t).comparative;
  }
  throw new Error('unknown peer ' + which);
}

function main() {
  const [mode, which, file] = process.argv.slice(2);
  if (!mode || !which || !file) {
    process.stderr.write('usage: node peers.js score|speed vader|afinn FILE\n');
    process.exit(2);
  }
  const data = fs.readFileSync(file, 'utf8');
  const lines = data.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const f = scorer(which);
  if (mode === 'score') {
    const out = lines.map((t) => { const x = f(t); return Number.isFinite(x) ? x.toFixed(4) : '0'; });
    process.stdout.write(out.join('\n') + '\n');
    return;
  }
  let sink = 0;
  const warm = Math.min(lines.length, 2000);
  for (let i = 0; i < warm; i++) sink += f(lines[i]);
  const t0 = process.hrtime.bigint();
  for (const t of lines) sink += f(t);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`${lines.length} ${Buffer.byteLength(data, 'utf8')} ${s.toFixed(3)} ${sink.toFixed(1)}\n`);
}

main();
