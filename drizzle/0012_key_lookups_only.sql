-- The outbox's functions find rows by key only (ids, a customer's queue). Their plans are made
-- once per session (0011), and a plan made while a table is small reads it whole: measured, every
-- finish scanned all of `outbox` (done rows included, kept for retention) and `outbox_heads`, a
-- cost growing with the table for the rest of the session. Without sequential scans the planner
-- keeps to the indexes whatever the tables' sizes and statistics.
ALTER FUNCTION outbox_finish(bigint[]) SET enable_seqscan = off;
--> statement-breakpoint
ALTER FUNCTION outbox_head_advance(uuid) SET enable_seqscan = off;
--> statement-breakpoint
ALTER FUNCTION outbox_head_sync(uuid) SET enable_seqscan = off;
--> statement-breakpoint
ALTER FUNCTION outbox_give_back(bigint) SET enable_seqscan = off;
--> statement-breakpoint
ALTER FUNCTION outbox_requeue(bigint[], timestamptz, text, integer) SET enable_seqscan = off;
--> statement-breakpoint
ALTER FUNCTION outbox_renew(bigint[], timestamptz) SET enable_seqscan = off;
--> statement-breakpoint
ALTER FUNCTION outbox_dead(bigint, text, jsonb) SET enable_seqscan = off;
