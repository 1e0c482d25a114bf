-- Leaderboards and billing, rewritten for Aurora DSQL: one DDL per transaction, uuid keys
-- instead of serial, and asynchronous index builds.
CREATE TABLE players (
  player_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  handle text NOT NULL UNIQUE,
  joined_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE leaderboard_entries (
  entry_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  player_id uuid NOT NULL REFERENCES players (player_id),
  season integer NOT NULL,
  score bigint NOT NULL
);

CREATE INDEX ASYNC leaderboard_season_score ON leaderboard_entries (season, score);
