-- The outbox's stored functions. Every queue (a customer, or the nil UUID for notices about no
-- one customer) has one row in outbox_heads naming its next item; the claim reads only heads.
-- Every writer locks the heads it touches first, in customer order, then the items. This file is
-- the one current text of these functions; src/db/migrate.ts applies it after the migrations at
-- every start. They look rows up by key only: without sequential scans and with a plan made once
-- per session, the planner keeps to the indexes whatever the tables' sizes and statistics.

-- The item that should head queue q next. Messages and notices (priority 0 and 1) go first, in
-- the order they were filed; card edits and renames (2) and pins (3) only once none of those is
-- pending, lowest priority first. The deferrable ones render the current state when delivered,
-- so letting a customer's message overtake them loses nothing, while keeping them in line would
-- hold that message until every other customer's messages were served first.
CREATE OR REPLACE FUNCTION outbox_next(q uuid)
RETURNS TABLE (id bigint, target text, priority integer, next_attempt_at timestamptz,
	locked_until timestamptz)
LANGUAGE sql STABLE
AS $$
	(SELECT o.id, o.target, o.priority, o.next_attempt_at, o.locked_until FROM outbox o
		WHERE o.customer_id = q AND o.state = 'pending' AND o.priority <= 1 ORDER BY o.id LIMIT 1)
	UNION ALL
	(SELECT o.id, o.target, o.priority, o.next_attempt_at, o.locked_until FROM outbox o
		WHERE o.customer_id = q AND o.state = 'pending' AND o.priority > 1
		ORDER BY o.priority, o.id LIMIT 1)
	UNION ALL
	(SELECT o.id, o.target, o.priority, o.next_attempt_at, o.locked_until FROM outbox o
		WHERE q = '00000000-0000-0000-0000-000000000000' AND o.customer_id IS NULL
			AND o.state = 'pending' ORDER BY o.id LIMIT 1)
	LIMIT 1
$$;
--> statement-breakpoint
-- The next head of queue q (outbox_next), to the back of the serving line (round robin), or
-- idle. Called with the head row locked, as a statement of its own, so it sees every enqueue
-- committed meanwhile.
CREATE OR REPLACE FUNCTION outbox_head_advance(q uuid) RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE n record;
BEGIN
	SELECT * INTO n FROM outbox_next(q);
	UPDATE outbox_heads SET head_id = n.id, target = coalesce(n.target, 'idle'),
		priority = coalesce(n.priority, priority),
		ready_at = CASE WHEN n.id IS NULL THEN 'infinity'
			ELSE greatest(n.next_attempt_at, n.locked_until, now()) END
	WHERE customer_id = q;
END $$;
--> statement-breakpoint
-- Recomputes queue q's head from its items (merge, erasure, /retry, repair): an item still in
-- flight stays the head (one in flight per customer), else outbox_next, else idle.
CREATE OR REPLACE FUNCTION outbox_head_sync(q uuid) RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
DECLARE n record;
BEGIN
	-- A new head row draws from its customer's support group (0: the default group).
	INSERT INTO outbox_heads (customer_id, group_id)
	VALUES (q, coalesce((SELECT c.group_id FROM customers c WHERE c.id = q), 0))
	ON CONFLICT (customer_id) DO NOTHING;
	PERFORM 1 FROM outbox_heads WHERE customer_id = q FOR UPDATE;
	-- An item in flight stays the head: one in flight per queue.
	IF q = '00000000-0000-0000-0000-000000000000' THEN
		SELECT o.id, o.target, o.priority, o.next_attempt_at, o.locked_until INTO n FROM outbox o
			WHERE o.customer_id IS NULL AND o.state = 'pending' AND o.locked_until > clock_timestamp()
			ORDER BY o.id LIMIT 1;
	ELSE
		SELECT o.id, o.target, o.priority, o.next_attempt_at, o.locked_until INTO n FROM outbox o
			WHERE o.customer_id = q AND o.state = 'pending' AND o.locked_until > clock_timestamp()
			ORDER BY o.id LIMIT 1;
	END IF;
	IF n.id IS NULL THEN
		SELECT * INTO n FROM outbox_next(q);
	END IF;
	UPDATE outbox_heads SET head_id = n.id, target = coalesce(n.target, 'idle'),
		priority = coalesce(n.priority, priority),
		ready_at = coalesce(greatest(n.next_attempt_at, n.locked_until), 'infinity')
	WHERE customer_id = q;
END $$;
--> statement-breakpoint
-- Marks items done (a batch, across customers) and moves every head that pointed at one of them
-- to its queue's next item (outbox_next), or idle. The heads are locked first, by primary key and in
-- customer order; the next items are read in later statements. A single statement would read
-- with its pre-wait snapshot and miss an enqueue committed while it waited (an orphaned item):
-- do not fold the lock into the update. The heads to move are found again after the items are
-- done (a new snapshot): a merge that committed meanwhile may have moved an item, and its head,
-- to another customer.
CREATE OR REPLACE FUNCTION outbox_finish(done bigint[]) RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
	PERFORM 1 FROM outbox_heads h
	WHERE h.customer_id = ANY(ARRAY(
		SELECT coalesce(o.customer_id, '00000000-0000-0000-0000-000000000000') FROM outbox o
		WHERE o.id = ANY(done)))
	ORDER BY h.customer_id FOR UPDATE;
	UPDATE outbox SET state = 'done', done_at = now(), last_error = NULL WHERE id = ANY(done);
	UPDATE outbox_heads h SET head_id = n.id, target = coalesce(n.target, 'idle'),
		priority = coalesce(n.priority, h.priority),
		ready_at = CASE WHEN n.id IS NULL THEN 'infinity'
			ELSE greatest(n.next_attempt_at, n.locked_until, now()) END
	FROM (
		SELECT x.customer_id, p.id, p.target, p.priority, p.next_attempt_at, p.locked_until
		FROM outbox_heads x
		LEFT JOIN LATERAL outbox_next(x.customer_id) p ON true
		WHERE x.head_id = ANY(done) AND x.customer_id <> '00000000-0000-0000-0000-000000000000'
	) n
	WHERE h.customer_id = n.customer_id;
	IF EXISTS (SELECT 1 FROM outbox_heads WHERE head_id = ANY(done)
			AND customer_id = '00000000-0000-0000-0000-000000000000') THEN
		PERFORM outbox_head_advance('00000000-0000-0000-0000-000000000000');
	END IF;
END $$;
--> statement-breakpoint
-- Puts claimed items back (a failure to retry at `at`, or a release): heads first, then items;
-- then each head on them is re-derived, so an older item revived by /retry meanwhile goes first.
CREATE OR REPLACE FUNCTION outbox_requeue(ids bigint[], at timestamptz, err text, undo integer)
RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
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
CREATE OR REPLACE FUNCTION outbox_renew(ids bigint[], until timestamptz) RETURNS void
LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
BEGIN
	UPDATE outbox_heads SET ready_at = until WHERE head_id = ANY(ids);
	UPDATE outbox SET locked_until = until WHERE id = ANY(ids) AND state <> 'done' AND state <> 'dead';
END $$;
--> statement-breakpoint
-- A permanent failure: the item is dead, an optional notice joins the same queue, and the
-- queue's head (and any head still on the item) is re-derived, each locked before it is read.
CREATE OR REPLACE FUNCTION outbox_dead(item bigint, err text, notice jsonb) RETURNS void
LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
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
CREATE OR REPLACE FUNCTION outbox_heads_repair() RETURNS integer LANGUAGE plpgsql AS $$
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
