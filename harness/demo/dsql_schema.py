"""The demo application's schema in its two shapes for ``cutover demo --to dsql``.

:data:`AURORA_MIGRATION` is what the application's Aurora PostgreSQL gained over the years and
Aurora DSQL refuses: an enum, a ``serial``-style key, a PL/pgSQL trigger, in one migration file
of several DDL statements (one transaction under every migration tool). :data:`DSQL_SCHEMA` is
the same schema as the team rewrites it for DSQL after reading ``cutover lint``: keys declared
in ``CREATE TABLE``, the enum a checked ``varchar``, no sequence default (the application
assigns ids), no trigger (the application sets ``last_login_at``), indexes built ``ASYNC`` and
foreign keys added ``NOT VALID``, one statement per transaction.
"""

from __future__ import annotations

AURORA_MIGRATION = """\
-- 002_roles_ids_and_audit.sql: applied to Aurora PostgreSQL in one transaction by the
-- application's migration tool.
CREATE TYPE member_role AS ENUM ('owner', 'admin', 'member', 'viewer');
ALTER TABLE group_members ALTER COLUMN role TYPE member_role USING role::member_role;
CREATE SEQUENCE events_id_seq OWNED BY events.id;
SELECT setval('events_id_seq', (SELECT coalesce(max(id), 0) + 1 FROM events), false);
ALTER TABLE events ALTER COLUMN id SET DEFAULT nextval('events_id_seq');
CREATE FUNCTION touch_last_login() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.last_login_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER users_touch BEFORE UPDATE OF is_active ON users
    FOR EACH ROW EXECUTE FUNCTION touch_last_login();
"""

DSQL_SCHEMA = """\
-- 001_schema.sql: the demo schema, DSQL-ready (one statement per transaction).
CREATE TABLE groups (
    id bigint PRIMARY KEY,
    name varchar(80) NOT NULL UNIQUE,
    created_at timestamp NOT NULL
);
CREATE TABLE users (
    id bigint PRIMARY KEY,
    email varchar(255) NOT NULL UNIQUE,
    display_name varchar(120),
    password_hash bytea NOT NULL,
    is_active boolean NOT NULL DEFAULT true,
    group_id bigint,
    created_at timestamp NOT NULL,
    last_login_at timestamp
);
CREATE TABLE people (
    id bigint PRIMARY KEY,
    user_id bigint,
    first_name varchar(60) NOT NULL,
    last_name varchar(60) NOT NULL,
    nickname varchar(40),
    birth_date date,
    phone varchar(24)
);
CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    user_id bigint NOT NULL,
    currency char(3) NOT NULL DEFAULT 'USD',
    balance numeric(12, 2) NOT NULL DEFAULT 0,
    credit_limit numeric(12, 2) CHECK (credit_limit >= 0),
    is_frozen boolean NOT NULL DEFAULT false,
    opened_at timestamp NOT NULL
);
CREATE TABLE group_members (
    group_id bigint NOT NULL,
    user_id bigint NOT NULL,
    role varchar(16) NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    PRIMARY KEY (group_id, user_id)
);
CREATE TABLE events (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL,
    user_id bigint,
    kind varchar(32) NOT NULL,
    amount numeric(12, 2),
    occurred_at timestamp NOT NULL,
    payload text,
    flagged boolean NOT NULL DEFAULT false,
    checksum bytea
);
CREATE VIEW active_users AS SELECT id, email, display_name FROM users WHERE is_active;
CREATE INDEX ASYNC ix_users_group_id ON users (group_id);
CREATE INDEX ASYNC ix_accounts_user_id ON accounts (user_id);
CREATE INDEX ASYNC ix_events_account_id_occurred_at ON events (account_id, occurred_at);
CREATE INDEX ASYNC ix_events_kind ON events (kind);
ALTER TABLE users ADD CONSTRAINT users_group_id_fkey
    FOREIGN KEY (group_id) REFERENCES groups (id) NOT VALID;
ALTER TABLE people ADD CONSTRAINT people_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE accounts ADD CONSTRAINT accounts_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE group_members ADD CONSTRAINT group_members_group_id_fkey
    FOREIGN KEY (group_id) REFERENCES groups (id) NOT VALID;
ALTER TABLE group_members ADD CONSTRAINT group_members_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE events ADD CONSTRAINT events_account_id_fkey
    FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;
ALTER TABLE events ADD CONSTRAINT events_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
"""
