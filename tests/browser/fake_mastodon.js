// fake_mastodon.js -- a loopback server that answers like a Mastodon
// instance, as far as the browser tests and the latency bench need:
//   GET  /api/v1/timelines/tag/:tag   statuses newest first, `limit`, and
//        min_id paging (the page right after min_id, returned newest first);
//   POST /api/v1/statuses             a reply: records the Idempotency-Key,
//        in_reply_to_id and status; a repeated key answers the status made
//        before (as Mastodon does); answers {id, ...}.
// It records when each status was first served (servedAt) for the bench.
'use strict';
const http = require('node:http');

function escapeHtml(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

class FakeMastodon {
  constructor() {
    this.statuses = [];           // oldest first
    this.posts = [];              // {headers, body} of every POST /api/v1/statuses
    this.made = new Map();        // Idempotency-Key -> status made
    this.gets = 0;
    this.nextId = 110000000000000000n;
    this.server = null;
    this.url = null;
  }

  // Adds a status whose plain text is `text` (escaped into the HTML content,
  // as Mastodon does) unless opts.html gives the content as it is.
  add(text, opts = {}) {
    this.nextId += 1n;
    const id = String(this.nextId);
    const acct = opts.acct || 'ann';
    const s = {
      id, created_at: new Date().toISOString(),
      content: opts.html !== undefined ? opts.html : `<p>${escapeHtml(text)}</p>`,
      url: `https://mastodon.example/@${acct}/${id}`,
      uri: `https://mastodon.example/users/${acct}/statuses/${id}`,
      language: opts.language || 'en', visibility: 'public', reblog: null, in_reply_to_id: null,
      account: {
        id: String(opts.accountId || 7), username: acct, acct,
        display_name: opts.displayName !== undefined ? opts.displayName : acct[0].toUpperCase() + acct.slice(1),
        followers_count: opts.followers !== undefined ? opts.followers : 1200,
        url: `https://mastodon.example/@${acct}`,
      },
    };
    this.statuses.push(s);
    return s;
  }

  // The reply statuses made (not repeats).
  replies() {
    return [...this.made.values()];
  }

  timeline(query) {
    const limit = Math.max(1, Math.min(40, Number(query.get('limit')) || 20));
    const min = query.get('min_id');
    let page;
    if (min !== null) {
      const newer = this.statuses.filter((s) => BigInt(s.id) > BigInt(min));
      page = newer.slice(0, limit);          // right after min_id
    } else {
      page = this.statuses.slice(-limit);    // the newest page
    }
    const now = Date.now();
    for (const s of page) if (s.servedAt === undefined) s.servedAt = now;
    return page.slice().reverse();           // newest first
  }

  handle(req, res, body) {
    const u = new URL(req.url, 'http://x');
    const reply = (status, obj) => {
      const b = Buffer.from(JSON.stringify(obj));
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': b.length });
      res.end(b);
    };
    if (req.method === 'GET' && u.pathname.startsWith('/api/v1/timelines/tag/')) {
      this.gets++;
      return reply(200, this.timeline(u.searchParams));
    }
    if (req.method === 'POST' && u.pathname === '/api/v1/statuses') {
      let form;
      const ct = req.headers['content-type'] || '';
      try {
        form = ct.startsWith('application/json') ? JSON.parse(body)
          : Object.fromEntries(new URLSearchParams(body));
      } catch (e) {
        return reply(400, { error: 'bad body' });
      }
      const key = req.headers['idempotency-key'];
      this.posts.push({ headers: req.headers, body: form });
      if (key && this.made.has(key)) return reply(200, this.made.get(key));
      this.nextId += 1n;
      const st = { id: String(this.nextId), content: form.status,
        in_reply_to_id: form.in_reply_to_id || null, idempotency_key: key || null };
      if (key) this.made.set(key, st);
      else this.made.set('none-' + st.id, st);
      return reply(200, st);
    }
    return reply(404, { error: 'Record not found' });
  }

  start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    this.server.keepAliveTimeout = 30000;
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      this.url = `http://127.0.0.1:${this.server.address().port}`;
      resolve(this);
    }));
  }

  stop() {
    if (!this.server) return Promise.resolve();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

module.exports = { FakeMastodon, escapeHtml };
