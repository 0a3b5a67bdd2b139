-- A finish moves every head that pointed at a finished item in one statement. It used to call
-- `outbox_head_advance` once per head: two statements and a function call with its own settings
-- per customer. At 50 messages/s the finishes had become PostgreSQL's largest cost per message
-- (docs/BENCHMARKS.md, "Issue 10, fourteenth pass"). What a head moves to is unchanged: its
-- queue's first pending item, or idle. The heads are locked first, in customer order, as before;
-- the queue of items without a customer (head under the nil id) still goes through
-- `outbox_head_advance`.
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
		LEFT JOIN LATERAL (
			SELECT o.id, o.target, o.priority, o.next_attempt_at, o.locked_until FROM outbox o
			WHERE o.customer_id = x.customer_id AND o.state = 'pending' ORDER BY o.id LIMIT 1
		) p ON true
		WHERE x.head_id = ANY(done) AND x.customer_id <> '00000000-0000-0000-0000-000000000000'
	) n
	WHERE h.customer_id = n.customer_id;
	IF EXISTS (SELECT 1 FROM outbox_heads WHERE head_id = ANY(done)
			AND customer_id = '00000000-0000-0000-0000-000000000000') THEN
		PERFORM outbox_head_advance('00000000-0000-0000-0000-000000000000');
	END IF;
END $$;
