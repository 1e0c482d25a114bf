// The application's own tests of its data access, against whatever DATABASE_URL names.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const db = require('../src/db');

after(() => db.pool.end());

test('lists the seeded skills in order', async () => {
  const skills = await db.listSkills();
  assert.deepEqual(
    skills.slice(0, 3).map((s) => s.name),
    ['TypeScript', 'PostgreSQL', 'Go'],
  );
});

test('finds a skill by its exact name', async () => {
  const skill = await db.findSkill('TypeScript');
  assert.ok(skill, 'TypeScript is a seeded skill');
  assert.equal(skill.id, 1);
});

test('lists the users who have a skill', async () => {
  assert.deepEqual(await db.usersWithSkill('PostgreSQL'), ['ada@example.com', 'lin@example.com']);
});

// Writes run in a transaction rolled back at the end: the suite leaves the database as it
// found it, so it may run against a shared rehearsal copy of the target.
test('adds a skill and gets its id back', async () => {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const added = await db.addSkill(`Rust-${process.pid}`, client);
    assert.equal(added.name, `Rust-${process.pid}`);
    assert.ok(added.id > 3, `a new id after the seeded ones, got ${added.id}`);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
});
