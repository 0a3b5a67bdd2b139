-- Stored functions no longer used, dropped at every start (a no-op once they are gone). Keep an
-- entry here as long as a database from before its removal may still be upgraded.

-- The hand-off's give-back: the accept no longer leases a topic copy to the worker.
DROP FUNCTION IF EXISTS outbox_give_back(bigint);
--> statement-breakpoint
-- The one-statement accept of a web message: its rule now lives once, in TypeScript
-- (src/core/customer-messages.ts), run as a few set statements in one transaction.
DROP FUNCTION IF EXISTS accept_web_message(timestamptz, uuid, text, text, text, timestamptz,
	timestamptz, integer, text[], text, text, integer);
--> statement-breakpoint
DROP FUNCTION IF EXISTS accept_web_messages(timestamptz, uuid[], text[], text[], text[],
	timestamptz, timestamptz[], integer[], text[], text, text, integer);
