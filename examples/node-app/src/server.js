// A small HTTP backend on Node's own http module (the routes an Express app would have):
// GET /health, GET /skills, GET /skills/:name/users.
'use strict';

const http = require('node:http');
const db = require('./db');

// The schema this build of the application needs: /health says "degraded" on an older one.
const REQUIRED_SCHEMA = 2;

async function route(req) {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/health') {
    const version = await db.schemaVersion();
    const healthy = version >= REQUIRED_SCHEMA;
    return [healthy ? 200 : 503, { status: healthy ? 'healthy' : 'degraded', schema: version }];
  }
  if (url.pathname === '/skills') {
    return [200, await db.listSkills()];
  }
  const users = url.pathname.match(/^\/skills\/([^/]+)\/users$/);
  if (users) {
    return [200, await db.usersWithSkill(decodeURIComponent(users[1]))];
  }
  return [404, { error: 'not found' }];
}

function createServer() {
  return http.createServer((req, res) => {
    route(req)
      .then(([status, body]) => send(res, status, body))
      .catch((err) => send(res, 503, { status: 'unavailable', error: err.message }));
  });
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

if (require.main === module) {
  const port = Number(process.env.PORT || 3000);
  const server = createServer().listen(port, '127.0.0.1', () => {
    console.log(`listening on http://127.0.0.1:${port} (${process.env.CUTOVER_SIDE || 'dev'})`);
  });
  const stop = () => server.close(() => db.pool.end().then(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

module.exports = { createServer };
