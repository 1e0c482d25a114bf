CREATE TABLE languages (id integer PRIMARY KEY, name varchar(40) NOT NULL UNIQUE);
CREATE TABLE repositories (
  id integer PRIMARY KEY,
  name varchar(80) NOT NULL,
  language_id integer NOT NULL REFERENCES languages (id),
  stars integer NOT NULL DEFAULT 0
);
INSERT INTO languages VALUES (1, 'TypeScript'), (2, 'Python'), (3, 'Go');
INSERT INTO repositories VALUES
  (1, 'cutover', 2, 120), (2, 'express-api', 1, 45), (3, 'kysely-demo', 1, 300),
  (4, 'etl', 2, 12), (5, 'proxy', 3, 77), (6, 'web', 1, 45);
