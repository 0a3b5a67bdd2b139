ALTER TABLE "outbox_heads" ALTER COLUMN "target" SET DEFAULT 'idle';
--> statement-breakpoint
-- Empty queues leave the claim's range (schema.ts, outbox_heads): their heads become 'idle' and
-- wait for 'infinity'. The old outbox_head_advance left them on their last target with
-- ready_at = now() (greatest() ignores NULLs), so every claim that found fewer heads ready than
-- it could take read past all of them.
UPDATE outbox_heads SET target = 'idle', ready_at = 'infinity' WHERE head_id IS NULL;
--> statement-breakpoint
ALTER TABLE "outbox_heads" ADD CONSTRAINT "outbox_heads_idle_check" CHECK (("outbox_heads"."head_id" is null) = ("outbox_heads"."target" = 'idle'));
--> statement-breakpoint
CREATE OR REPLACE FUNCTION outbox_head_advance(q uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE n record;
BEGIN
	IF q = '00000000-0000-0000-0000-000000000000' THEN
		SELECT id, target, priority, next_attempt_at, locked_until INTO n FROM outbox
			WHERE customer_id IS NULL AND state = 'pending' ORDER BY id LIMIT 1;
	ELSE
		SELECT id, target, priority, next_attempt_at, locked_until INTO n FROM outbox
			WHERE customer_id = q AND state = 'pending' ORDER BY id LIMIT 1;
	END IF;
	UPDATE outbox_heads SET head_id = n.id, target = coalesce(n.target, 'idle'),
		priority = coalesce(n.priority, priority),
		ready_at = CASE WHEN n.id IS NULL THEN 'infinity'
			ELSE greatest(n.next_attempt_at, n.locked_until, now()) END
	WHERE customer_id = q;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION outbox_head_sync(q uuid) RETURNS void LANGUAGE plpgsql AS $$
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
	UPDATE outbox_heads SET head_id = n.id, target = coalesce(n.target, 'idle'),
		priority = coalesce(n.priority, priority),
		ready_at = coalesce(greatest(n.next_attempt_at, n.locked_until), 'infinity')
	WHERE customer_id = q;
END $$;
--> statement-breakpoint
-- As in 0008, but the heads are locked by primary key (= ANY of an array): the IN (subquery)
-- form was planned as a hash semi-join over a sequential scan of every head, a cost that grew
-- with the number of customers who ever wrote.
CREATE OR REPLACE FUNCTION outbox_finish(done bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE q uuid;
BEGIN
	PERFORM 1 FROM outbox_heads h
	WHERE h.customer_id = ANY(ARRAY(
		SELECT coalesce(o.customer_id, '00000000-0000-0000-0000-000000000000') FROM outbox o
		WHERE o.id = ANY(done)))
	ORDER BY h.customer_id FOR UPDATE;
	UPDATE outbox SET state = 'done', done_at = now(), last_error = NULL WHERE id = ANY(done);
	FOR q IN SELECT customer_id FROM outbox_heads WHERE head_id = ANY(done)
		ORDER BY customer_id FOR UPDATE
	LOOP
		PERFORM outbox_head_advance(q);
	END LOOP;
END $$;
