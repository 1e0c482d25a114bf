// skillin backend: the one place the Express app gets a PostgreSQL pool.
//
// Before the move the pool read a local connection string:
//   const pool = new Pool({ connectionString: "postgres://skillin@localhost:5432/skillinDB" });
// After it, the credentials live in Secrets Manager (the same secret `cutover verify` reads),
// and TLS is on, as Aurora expects.
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Pool } from "pg";

const secretId = process.env.DB_SECRET_ID ?? "rds!cluster-d1aab255-8b30-49d0-a107-f2cc5e0c5cc6";
const region = process.env.AWS_REGION ?? "us-east-2";

interface DbSecret {
  username: string;
  password: string;
  host?: string;
  port?: number;
  dbname?: string;
}

let pool: Pool | undefined;

export async function getPool(): Promise<Pool> {
  if (pool) return pool;
  const sm = new SecretsManagerClient({ region });
  const { SecretString } = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
  const secret = JSON.parse(SecretString ?? "{}") as DbSecret;
  pool = new Pool({
    host: process.env.DB_HOST ?? secret.host,
    port: secret.port ?? 5432,
    database: secret.dbname ?? "skillinDB",
    user: secret.username,
    password: secret.password,
    ssl: { rejectUnauthorized: true }, // ca: the RDS global bundle in production
    max: 10,
    connectionTimeoutMillis: 5_000,
  });
  return pool;
}

// The queries the routes run; `cutover verify` proves the tables behind them match.
export async function mentorsFor(skill: string) {
  const db = await getPool();
  const { rows } = await db.query(
    `SELECT u.id, u.full_name, us.level, us.hourly_rate
       FROM users u
       JOIN user_skills us ON us.user_id = u.id
       JOIN skills s ON s.id = us.skill_id
      WHERE s.name = $1 AND u.is_mentor
      ORDER BY us.level DESC, u.full_name`,
    [skill],
  );
  return rows;
}

export async function addSkill(userId: number, skillId: number, level: number) {
  const db = await getPool();
  await db.query(
    `INSERT INTO user_skills (user_id, skill_id, level) VALUES ($1, $2, $3)
     ON CONFLICT (user_id, skill_id) DO UPDATE SET level = EXCLUDED.level`,
    [userId, skillId, level],
  );
}
