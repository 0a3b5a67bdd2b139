-- Stored functions no longer used, dropped at every start (a no-op once they are gone). Keep an
-- entry here as long as a database from before its removal may still be upgraded.
SELECT 1;
