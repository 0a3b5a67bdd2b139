CREATE TABLE "outbox_heads" (
	"customer_id" uuid PRIMARY KEY NOT NULL,
	"head_id" bigint,
	"target" text DEFAULT 'group' NOT NULL,
	"priority" integer DEFAULT 1 NOT NULL,
	"ready_at" timestamp with time zone DEFAULT 'infinity' NOT NULL
);
--> statement-breakpoint
DROP INDEX "outbox_due_idx";--> statement-breakpoint
CREATE INDEX "outbox_heads_ready_idx" ON "outbox_heads" USING btree ("target","priority","ready_at","head_id");--> statement-breakpoint
CREATE INDEX "outbox_heads_head_idx" ON "outbox_heads" USING btree ("head_id");--> statement-breakpoint
-- The next head of queue q (a customer, or the nil UUID for notices about no one customer):
-- its oldest pending item, to the back of the serving line (round robin). Called with the
-- head row locked, as a statement of its own, so it sees every enqueue committed meanwhile.
CREATE FUNCTION outbox_head_advance(q uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE n record;
BEGIN
	IF q = '00000000-0000-0000-0000-000000000000' THEN
		SELECT id, target, priority, next_attempt_at, locked_until INTO n FROM outbox
			WHERE customer_id IS NULL AND state = 'pending' ORDER BY id LIMIT 1;
	ELSE
		SELECT id, target, priority, next_attempt_at, locked_until INTO n FROM outbox
			WHERE customer_id = q AND state = 'pending' ORDER BY id LIMIT 1;
	END IF;
	UPDATE outbox_heads SET head_id = n.id, target = coalesce(n.target, target),
		priority = coalesce(n.priority, priority),
		ready_at = coalesce(greatest(n.next_attempt_at, n.locked_until, now()), 'infinity')
	WHERE customer_id = q;
END $$;
--> statement-breakpoint
-- Recomputes queue q's head from its items (merge, erasure, /retry, repair): an item still in
-- flight stays the head (one in flight per customer), else the oldest pending item.
CREATE FUNCTION outbox_head_sync(q uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE n record;
BEGIN
	INSERT INTO outbox_heads (customer_id) VALUES (q) ON CONFLICT (customer_id) DO NOTHING;
	PERFORM 1 FROM outbox_heads WHERE customer_id = q FOR UPDATE;
	IF q = '00000000-0000-0000-0000-000000000000' THEN
		SELECT id, target, priority, next_attempt_at, locked_until INTO n FROM outbox
			WHERE customer_id IS NULL AND state = 'pending'
			ORDER BY locked_until > clock_timestamp() DESC, id LIMIT 1;
	ELSE
		SELECT id, target, priority, next_attempt_at, locked_until INTO n FROM outbox
			WHERE customer_id = q AND state = 'pending'
			ORDER BY locked_until > clock_timestamp() DESC, id LIMIT 1;
	END IF;
	UPDATE outbox_heads SET head_id = n.id, target = coalesce(n.target, target),
		priority = coalesce(n.priority, priority),
		ready_at = coalesce(greatest(n.next_attempt_at, n.locked_until), 'infinity')
	WHERE customer_id = q;
END $$;
--> statement-breakpoint
-- Marks items done (a batch, across customers) and advances the heads among them. Lock first:
-- the heads of the items' queues, in key order; the next items are read in later statements.
-- A single statement would read with its pre-wait snapshot and miss an enqueue committed while
-- it waited (an orphaned item). Do not "simplify" this into one statement. The heads to advance
-- are found again after the items are done (a new snapshot): a merge that committed while this
-- waited may have moved an item, and its head, to another customer.
CREATE FUNCTION outbox_finish(done bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE q uuid;
BEGIN
	PERFORM 1 FROM outbox_heads h
	WHERE h.customer_id IN (
		SELECT coalesce(o.customer_id, '00000000-0000-0000-0000-000000000000') FROM outbox o
		WHERE o.id = ANY(done))
	ORDER BY h.customer_id FOR UPDATE;
	UPDATE outbox SET state = 'done', done_at = now(), last_error = NULL WHERE id = ANY(done);
	FOR q IN SELECT customer_id FROM outbox_heads WHERE head_id = ANY(done)
		ORDER BY customer_id FOR UPDATE
	LOOP
		PERFORM outbox_head_advance(q);
	END LOOP;
END $$;
--> statement-breakpoint
-- Puts claimed items back (a failure to retry at `at`, or a release): heads first, then items;
-- then each head on them is re-derived, so an older item revived by /retry meanwhile goes first.
CREATE FUNCTION outbox_requeue(ids bigint[], at timestamptz, err text, undo integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE q uuid;
BEGIN
	PERFORM 1 FROM outbox_heads WHERE head_id = ANY(ids) ORDER BY customer_id FOR UPDATE;
	UPDATE outbox SET locked_until = 'epoch', next_attempt_at = at,
		attempts = greatest(0, attempts - undo), last_error = coalesce(err, last_error)
	WHERE id = ANY(ids) AND state <> 'done' AND state <> 'dead';
	FOR q IN SELECT customer_id FROM outbox_heads WHERE head_id = ANY(ids)
		ORDER BY customer_id FOR UPDATE
	LOOP
		PERFORM outbox_head_sync(q);
	END LOOP;
END $$;
--> statement-breakpoint
-- Renews the leases of items in flight: heads first (the order every writer locks in).
CREATE FUNCTION outbox_renew(ids bigint[], until timestamptz) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	UPDATE outbox_heads SET ready_at = until WHERE head_id = ANY(ids);
	UPDATE outbox SET locked_until = until WHERE id = ANY(ids) AND state <> 'done' AND state <> 'dead';
END $$;
--> statement-breakpoint
-- A permanent failure: the item is dead, an optional notice joins the same queue, and the
-- queue's head (and any head still on the item) is re-derived, each locked before it is read.
CREATE FUNCTION outbox_dead(item bigint, err text, notice jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE q uuid; c uuid;
BEGIN
	UPDATE outbox SET state = 'dead', last_error = err, locked_until = 'epoch' WHERE id = item
	RETURNING customer_id INTO c;
	IF notice IS NOT NULL THEN
		INSERT INTO outbox (customer_id, kind, payload, target, priority)
		VALUES (c, 'topic_notice', notice, 'group', 1);
	END IF;
	FOR q IN SELECT customer_id FROM outbox_heads
		WHERE head_id = item OR customer_id = coalesce(c, '00000000-0000-0000-0000-000000000000')
		UNION SELECT coalesce(c, '00000000-0000-0000-0000-000000000000')
		ORDER BY 1
	LOOP
		PERFORM outbox_head_sync(q);
	END LOOP;
END $$;
--> statement-breakpoint
-- The repair sweep: queues with pending items but no head, and heads on items no longer
-- pending, are recomputed. A failsafe; every write path keeps heads right by itself.
CREATE FUNCTION outbox_heads_repair() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE q uuid; fixed integer := 0;
BEGIN
	FOR q IN
		SELECT DISTINCT coalesce(o.customer_id, '00000000-0000-0000-0000-000000000000') FROM outbox o
		WHERE o.state = 'pending' AND NOT EXISTS (
			SELECT 1 FROM outbox_heads h
			WHERE h.customer_id = coalesce(o.customer_id, '00000000-0000-0000-0000-000000000000')
				AND h.head_id IS NOT NULL)
		UNION
		SELECT h.customer_id FROM outbox_heads h
		WHERE h.head_id IS NOT NULL AND NOT EXISTS (
			SELECT 1 FROM outbox o WHERE o.id = h.head_id AND o.state <> 'done' AND o.state <> 'dead')
	LOOP
		PERFORM outbox_head_sync(q);
		fixed := fixed + 1;
	END LOOP;
	RETURN fixed;
END $$;
--> statement-breakpoint
INSERT INTO outbox_heads (customer_id, head_id, target, priority, ready_at)
SELECT DISTINCT ON (q) q, id, target, priority, greatest(next_attempt_at, locked_until)
FROM (SELECT coalesce(customer_id, '00000000-0000-0000-0000-000000000000') AS q, * FROM outbox
	WHERE state = 'pending') p
ORDER BY q, locked_until > now() DESC, id;
