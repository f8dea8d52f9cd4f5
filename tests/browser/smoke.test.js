// The harness itself: ctxd serves the index page to a real Chromium.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Rig, browser, screenshot } = require('./lib');

test('index page in Chromium', async () => {
  const rig = await new Rig('smoke').start();
  const b = await browser();
  try {
    const page = await b.newPage();
    await page.goto(rig.url + '/');
    assert.match(await page.textContent('h1'), /Context Center/);
    await screenshot(page, 'index');
  } finally {
    await b.close();
    await rig.stop();
  }
});
