// Data access for the repositories API (Express routes in ./routes.ts call these).
import { Pool } from "pg";

const pool = new Pool({ connectionString: process.env.DATABASE_URL });

export interface Language {
  id: number;
  name: string;
}

export async function getLanguageByName(name: string): Promise<Language | null> {
  const { rows } = await pool.query("SELECT id, name FROM languages WHERE name = $1", [name]);
  return rows[0] ?? null;
}

export async function listRepositories(limit = 20, offset = 0) {
  const result = await pool.query(
    `SELECT r.id, r.name, r.stars
       FROM repositories r
      ORDER BY r.stars DESC, r.id
      LIMIT $1 OFFSET $2`,
    [limit, offset],
  );
  return result.rows;
}

export const repositoriesByLanguage = async (language: string, minStars: number) => {
  const { rows } = await pool.query(
    `SELECT r.name, r.stars, s.name AS language
       FROM repositories r
       JOIN languages s ON s.id = r.language_id
      WHERE s.name = $1 AND r.stars >= $2
      ORDER BY r.name`,
    [language, minStars],
  );
  return rows;
};

export async function starsPerLanguage() {
  const { rows } = await pool.query(`
    SELECT s.name, count(*) AS repos, sum(r.stars) AS stars
      FROM languages s
      JOIN repositories r ON r.language_id = s.id
     GROUP BY s.name
     ORDER BY s.name
  `);
  return rows;
}

export async function createRepository(id: number, name: string, languageId: number) {
  const { rows } = await pool.query(
    "INSERT INTO repositories (id, name, language_id, stars) VALUES ($1, $2, $3, 0) RETURNING id, name, stars",
    [id, name, languageId],
  );
  return rows[0];
}

export async function starRepository(id: number) {
  const result = await pool.query("UPDATE repositories SET stars = stars + 1 WHERE id = $1", [id]);
  return result.rowCount;
}

export async function deleteLanguageRepositories(languageId: number) {
  const result = await pool.query("DELETE FROM repositories WHERE language_id = $1", [languageId]);
  return result.rowCount;
}

export async function countFor(table: string) {
  // Dynamic SQL: the table name is interpolated into the text.
  const { rows } = await pool.query(`SELECT count(*) AS n FROM ${table}`);
  return rows[0].n;
}
