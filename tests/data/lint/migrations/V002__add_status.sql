-- Written for PostgreSQL; two statements here are rejected by DSQL.
ALTER TABLE accounts ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
CREATE INDEX accounts_status_idx ON accounts (status);
ALTER TABLE accounts ADD COLUMN closed_at TIMESTAMPTZ;
ALTER TABLE accounts ALTER COLUMN closed_at SET DEFAULT NULL;
