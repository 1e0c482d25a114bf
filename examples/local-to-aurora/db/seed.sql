-- A few rows of each table, enough for row counts and row checksums to mean something.
INSERT INTO users (id, email, full_name, is_mentor, created_at) VALUES
    (1, 'amara@skillin.dev',  'Amara Okafor',   true,  '2026-03-01 09:00:00+00'),
    (2, 'jonas@skillin.dev',  'Jonas Weber',    false, '2026-03-02 10:30:00+00'),
    (3, 'mei@skillin.dev',    'Mei Tanaka',     true,  '2026-03-05 14:15:00+00'),
    (4, 'lucas@skillin.dev',  'Lucas Moreau',   false, '2026-04-11 08:45:00+00');

INSERT INTO skills (id, name, category) VALUES
    (1, 'TypeScript', 'engineering'),
    (2, 'PostgreSQL', 'engineering'),
    (3, 'Figma',      'design'),
    (4, 'Public speaking', 'communication');

INSERT INTO user_skills (user_id, skill_id, level, hourly_rate) VALUES
    (1, 1, 5, 85.00),
    (1, 2, 4, 80.00),
    (2, 3, 2, NULL),
    (3, 3, 5, 95.50),
    (3, 4, 4, 60.00),
    (4, 1, 3, NULL);

SELECT setval(pg_get_serial_sequence('users', 'id'), 4);
