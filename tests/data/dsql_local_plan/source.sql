-- The application's Aurora PostgreSQL schema and data (as pg_dump would give them, trimmed).
CREATE TABLE accounts (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    balance numeric(12, 2) NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL
);
CREATE INDEX accounts_email ON accounts (email);
INSERT INTO accounts VALUES
    ('6f1c1f8e-54c5-4d3a-9a51-0d6c1a3e0a01', 'ada@example.com', 120.50, '2026-01-02 03:04:05+00'),
    ('6f1c1f8e-54c5-4d3a-9a51-0d6c1a3e0a02', 'bob@example.com', 0, '2026-02-03 04:05:06+00'),
    ('6f1c1f8e-54c5-4d3a-9a51-0d6c1a3e0a03', 'cy@example.com', 9.99, '2026-03-04 05:06:07+00');
