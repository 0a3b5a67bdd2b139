-- Stored functions no longer used, dropped at every start (a no-op once they are gone). Keep an
-- entry here as long as a database from before its removal may still be upgraded.

-- The hand-off's give-back: the accept no longer leases a topic copy to the worker.
DROP FUNCTION IF EXISTS outbox_give_back(bigint);
