// feed_server.js -- two ways to put mentions into a test's ctxd without the
// network:
//   - FeedServer: a loopback HTTP server serving an RSS 2.0 feed that the
//     test grows with add(); ctxd polls it as a "feed" source, so the items
//     go through the real collector, analyzer and monitor;
//   - RawWriter: XADDs raw items (no tags) straight to the Redis stream
//     ctx:{i}:items:raw over one RESP connection, pipelined, for tests and
//     benches that need many items fast.
'use strict';
const http = require('node:http');
const net = require('node:net');

function xmlEscape(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

class FeedServer {
  constructor() {
    this.items = [];          // {guid, title, link, description (plain text), pubDate: Date}
    this.requests = 0;
  }

  async start() {
    this.server = http.createServer((req, res) => {
      this.requests++;
      const body = this.rss();
      res.writeHead(200, { 'Content-Type': 'application/rss+xml; charset=utf-8',
        'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache' });
      res.end(body);
    });
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${this.server.address().port}/feed.xml`;
    return this;
  }

  // description is plain text: it is XML-escaped once here, so markup in it
  // (e.g. "<script>") reaches ctxd as text, not as tags.
  add(item) {
    this.items.unshift(Object.assign({ pubDate: new Date() }, item));
  }

  rss() {
    const out = ['<?xml version="1.0" encoding="utf-8"?>', '<rss version="2.0"><channel>',
      '<title>Test feed</title><link>http://127.0.0.1/</link><description>test</description>'];
    for (const it of this.items) {
      out.push('<item>',
        `<guid isPermaLink="false">${xmlEscape(it.guid)}</guid>`,
        `<title>${xmlEscape(it.title || '')}</title>`,
        `<link>${xmlEscape(it.link || 'http://127.0.0.1/' + it.guid)}</link>`,
        `<description>${xmlEscape(it.description || '')}</description>`,
        `<pubDate>${it.pubDate.toUTCString()}</pubDate>`,
        '</item>');
    }
    out.push('</channel></rss>');
    return out.join('\n');
  }

  stop() {
    return new Promise((r) => this.server.close(r));
  }
}

// A raw item as a collector would write it (no tags: the analyzer adds them).
// n is a number or a short string, unique within the test.
function rawItem(n, fields = {}) {
  const now = new Date().toISOString();
  const k = typeof n === 'number' ? n : Array.from(String(n)).reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  return Object.assign({
    id: `feed:test:${n}`, source: 'test', kind: 'blog', url: `https://blog.example/${n}`,
    author: { handle: `user${k % 50}`, name: `User ${k % 50}`, followers: k % 1000 },
    title: null, text: `post ${n}`, lang: null, published: now, fetched: now, reply_to: null,
  }, fields);
}

function resp(args) {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
}

// XADD ctx:{i}:items:raw * id ID item JSON, pipelined on one connection. The
// replies are counted (a bulk string, the new stream id, or an error), so
// send() resolves once Redis has every entry.
class RawWriter {
  constructor(port) {
    this.port = port;
    this.waiting = [];        // {left, resolve, reject}
    this.errors = [];
    this.buf = '';
  }

  async open() {
    this.sock = net.connect(this.port, '127.0.0.1');
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d) => this.onData(d));
    await new Promise((resolve, reject) => {
      this.sock.once('connect', resolve);
      this.sock.once('error', reject);
    });
    return this;
  }

  onData(d) {
    this.buf += d;
    let i;
    while ((i = this.buf.indexOf('\r\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      if (this.inBulk) this.inBulk = false;           // the stream id itself
      else if (line[0] === '$' && line !== '$-1') { this.inBulk = true; continue; }
      else if (line[0] === '-') this.errors.push(line);
      const w = this.waiting[0];
      if (w && --w.left === 0) {
        this.waiting.shift();
        if (this.errors.length) w.reject(new Error(this.errors.join('; ')));
        else w.resolve();
      }
    }
  }

  send(items) {
    if (items.length === 0) return Promise.resolve();
    const p = new Promise((resolve, reject) => this.waiting.push({ left: items.length, resolve, reject }));
    this.sock.write(items.map((it) => resp(['XADD', 'ctx:{i}:items:raw', '*', 'id', it.id,
      'item', JSON.stringify(it)])).join(''));
    return p;
  }

  close() {
    this.sock.end();
  }
}

module.exports = { FeedServer, RawWriter, rawItem };
