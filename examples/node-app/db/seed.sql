-- The rows both sides hold after a faithful migration.
INSERT INTO schema_migrations VALUES (1), (2);
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'lin@example.com'), (3, 'sam@example.com');
INSERT INTO skills (id, name) VALUES (1, 'TypeScript'), (2, 'PostgreSQL'), (3, 'Go');
-- Identity columns continue after the copied ids, as a migration tool must leave them.
SELECT setval(pg_get_serial_sequence('users', 'id'), 3);
SELECT setval(pg_get_serial_sequence('skills', 'id'), 3);
INSERT INTO user_skills VALUES (1, 1), (1, 2), (2, 2), (2, 3);
