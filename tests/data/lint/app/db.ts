import { Pool, PoolClient } from "pg";

const pool = new Pool();

export async function transfer(from: number, to: number, amount: number): Promise<void> {
  const client: PoolClient = await pool.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL SERIALIZABLE");
    const { rows } = await client.query(
      "SELECT balance FROM accounts WHERE id = $1",
      [from],
    );
    if (rows[0].balance < amount) throw new Error("insufficient funds");
    await client.query("UPDATE accounts SET balance = balance - $1 WHERE id = $2", [amount, from]);
    await client.query("UPDATE accounts SET balance = balance + $1 WHERE id = $2", [amount, to]);
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK");
    throw e;
  } finally {
    client.release();
  }
}

export async function nextJob(table: string) {
  // A job queue in the PostgreSQL style.
  return pool.query(`
    SELECT id, payload
      FROM ${table}
     WHERE state = 'new'
     ORDER BY id
     LIMIT 1
       FOR UPDATE SKIP LOCKED`);
}

export async function search(term: string) {
  return pool.query(
    "SELECT id FROM articles WHERE to_tsvector('english', body) @@ plainto_tsquery('english', $1)",
    [term],
  );
}

export const greeting = "Select an account to continue"; // prose, not SQL
