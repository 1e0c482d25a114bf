-- A migration that went wrong in two ways the data checks alone would call small:
-- 'Go' arrived as 'go' (a lower-casing step), and the last schema migration was never
-- recorded, so this build of the application reports itself degraded.
INSERT INTO schema_migrations VALUES (1);
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'lin@example.com'), (3, 'sam@example.com');
INSERT INTO skills (id, name) VALUES (1, 'TypeScript'), (2, 'PostgreSQL'), (3, 'go');
SELECT setval(pg_get_serial_sequence('users', 'id'), 3);
SELECT setval(pg_get_serial_sequence('skills', 'id'), 3);
INSERT INTO user_skills VALUES (1, 1), (1, 2), (2, 2), (2, 3);
