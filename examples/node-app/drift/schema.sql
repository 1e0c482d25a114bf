-- The target's schema as the migration tool made it: skills.name narrowed from text to
-- varchar(16). Every copied row fits; the application's renameSkill writes a longer name,
-- which the target refuses (22001) where the source accepts it.
ALTER TABLE skills ALTER COLUMN name TYPE varchar(16);
