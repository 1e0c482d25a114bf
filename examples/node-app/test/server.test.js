// The routes, through a real HTTP server on a free port.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { createServer } = require('../src/server');
const db = require('../src/db');

let server;
let base;

before(async () => {
  server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await db.pool.end();
});

test('GET /health says healthy', async () => {
  const res = await fetch(`${base}/health`);
  assert.equal(res.status, 200);
  assert.equal((await res.json()).status, 'healthy');
});

test('GET /skills/:name/users', async () => {
  const res = await fetch(`${base}/skills/Go/users`);
  assert.deepEqual(await res.json(), ['lin@example.com']);
});
