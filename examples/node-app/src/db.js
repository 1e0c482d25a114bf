// The application's data access: one pg Pool, queries with $1 placeholders, as node-postgres
// is used in the Express backends this example stands for. The pool reads DATABASE_URL (or
// libpq's PG* variables when it is unset); cutover sets both for each side it runs against.
'use strict';

const { Pool } = require('pg');

const pool = new Pool(
  process.env.DATABASE_URL ? { connectionString: process.env.DATABASE_URL } : {},
);

async function listSkills() {
  const { rows } = await pool.query('SELECT id, name FROM skills ORDER BY id');
  return rows;
}

async function findSkill(name) {
  const { rows } = await pool.query('SELECT s.id, s.name FROM skills s WHERE s.name = $1', [
    name,
  ]);
  return rows[0] ?? null;
}

async function usersWithSkill(name) {
  const { rows } = await pool.query(
    `SELECT u.email
       FROM users u
       JOIN user_skills us ON us.user_id = u.id
       JOIN skills s ON s.id = us.skill_id
      WHERE s.name = $1
      ORDER BY u.email`,
    [name],
  );
  return rows.map((r) => r.email);
}

// `client` lets a caller run it inside its own transaction (the test suite rolls back).
async function addSkill(name, client = pool) {
  const { rows } = await client.query('INSERT INTO skills (name) VALUES ($1) RETURNING id, name', [
    name,
  ]);
  return rows[0];
}

async function renameSkill(id, name, client = pool) {
  const { rows } = await client.query(
    'UPDATE skills SET name = $2 WHERE id = $1 RETURNING id, name',
    [id, name],
  );
  return rows[0] ?? null;
}

async function schemaVersion() {
  const { rows } = await pool.query('SELECT max(version) AS version FROM schema_migrations');
  return Number(rows[0].version);
}

module.exports = {
  pool,
  listSkills,
  findSkill,
  usersWithSkill,
  addSkill,
  renameSkill,
  schemaVersion,
};
