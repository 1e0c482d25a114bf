-- Leaderboards and billing, as first written for Aurora PostgreSQL.
CREATE TABLE players (
  player_id serial PRIMARY KEY,
  handle text NOT NULL UNIQUE,
  joined_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE leaderboard_entries (
  entry_id bigserial PRIMARY KEY,
  player_id integer NOT NULL REFERENCES players (player_id),
  season integer NOT NULL,
  score bigint NOT NULL
);
CREATE INDEX leaderboard_season_score ON leaderboard_entries (season, score);
