-- The relational half of lexicon (leaderboards, billing) as it stands in Aurora PostgreSQL.
-- The example loads it into both embedded stand-ins: the source plays lexicon-aurora, the
-- target plays the DSQL cluster the data was copied to.
CREATE TABLE players (
  player_id uuid PRIMARY KEY,
  handle text NOT NULL UNIQUE,
  joined_at timestamptz NOT NULL
);

CREATE TABLE leaderboard_entries (
  entry_id uuid PRIMARY KEY,
  player_id uuid NOT NULL REFERENCES players (player_id),
  season integer NOT NULL,
  score bigint NOT NULL
);
CREATE INDEX leaderboard_season_score ON leaderboard_entries (season, score);

CREATE TABLE invoices (
  invoice_id uuid PRIMARY KEY,
  player_id uuid NOT NULL REFERENCES players (player_id),
  amount numeric(12, 2) NOT NULL,
  issued_at timestamptz NOT NULL
);

INSERT INTO players VALUES
  ('6f9619ff-8b86-d011-b42d-00c04fc964ff', 'wordsmith', '2025-01-04 10:00:00+00'),
  ('7c9e6679-7425-40de-944b-e07fc1f90ae7', 'anagrammer', '2025-02-11 18:30:00+00');
INSERT INTO leaderboard_entries VALUES
  ('0b1e2a3c-4d5e-4f60-8172-93a4b5c6d7e8', '6f9619ff-8b86-d011-b42d-00c04fc964ff', 7, 4120),
  ('1c2f3b4d-5e6f-4071-8283-a4b5c6d7e8f9', '7c9e6679-7425-40de-944b-e07fc1f90ae7', 7, 3985);
INSERT INTO invoices VALUES
  ('2d3a4c5e-6f70-4182-9394-b5c6d7e8f90a', '6f9619ff-8b86-d011-b42d-00c04fc964ff', 4.99, '2025-03-01 00:00:00+00');
