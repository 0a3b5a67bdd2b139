-- The web hot path (src/core/fast-accept.ts) for a batch of messages of distinct customers, in one
-- statement: each message stored, its customer's last activity, the topic copy owed (filed leased
-- for a hand-off when its queue is idle) with the queue's head, and the SLA clock. The rules come
-- as parameters from the code (statuses a message leaves alone, the copy's kind and routing), so
-- they are written down once.
--
-- A function rather than statement text: its plans are made once per session and generic, and
-- without sequential scans (as the outbox's, 0012), so a plan made while the tables are small
-- never reads `customers` or `outbox_heads` whole once they have grown. One message (the common
-- case below a burst) takes the one-row form, about a quarter cheaper to run than the set form
-- with one row (joins and hash tables for nothing); the two forms repeat the head and timer
-- steps for that reason, and both write the same rows (tests/core/accept-paths.test.ts compares
-- each with the general path).
--
-- Rows are locked in customer order (customers, then queue heads), as the finish does, so a batch
-- never deadlocks with a finish; a customer whose row another transaction holds is skipped (its
-- message returns nothing and takes the general path), so a batch never waits for one customer.
CREATE FUNCTION accept_web_messages(
	p_now timestamptz, p_customers uuid[], p_channels text[], p_texts text[], p_client_ids text[],
	p_sla_at timestamptz, p_leases timestamptz[], p_kept text[], p_kind text, p_target text,
	p_priority integer)
RETURNS TABLE (id uuid, customer_id uuid, seq bigint, created_at timestamptz, outbox_id bigint,
	leased boolean, took_head boolean, chat_id bigint, topic_id integer, card_message_id integer)
LANGUAGE plpgsql
SET enable_seqscan = off
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
	IF cardinality(p_customers) = 1 THEN
		RETURN QUERY
		with c as (
			update customers set last_message_at = p_now
			where id = p_customers[1] and status = any(p_kept)
			returning id, telegram_user_id, topic_id, card_message_id
		), m as (
			insert into messages (customer_id, author, channel, text, client_message_id)
			select c.id, 'user', p_channels[1], p_texts[1], p_client_ids[1] from c
			on conflict (customer_id, client_message_id) do nothing
			returning id, customer_id, seq, created_at
		), q as (
			select head_id from outbox_heads
			where customer_id = p_customers[1] and p_leases[1] is not null
			for update
		), lease as (
			select p_leases[1] as until
			where p_leases[1] is not null and not exists (select 1 from q where head_id is not null)
		), o as (
			insert into outbox (customer_id, kind, payload, target, priority, locked_until, attempts)
			select m.customer_id, p_kind, jsonb_build_object('messageId', m.id), p_target, p_priority,
				coalesce((select until from lease), 'epoch'),
				case when exists (select 1 from lease) then 1 else 0 end
			from m
			returning id, customer_id, next_attempt_at, locked_until, attempts
		), h as (
			insert into outbox_heads as x (customer_id, head_id, target, priority, ready_at)
			select o.customer_id, o.id, p_target, p_priority, greatest(o.next_attempt_at, o.locked_until)
			from o
			on conflict (customer_id) do update set head_id = excluded.head_id,
				target = excluded.target, priority = excluded.priority, ready_at = excluded.ready_at
			where x.head_id is null
			returning x.customer_id
		), t as (
			insert into timers (customer_id, kind, step, since, fire_at)
			select m.customer_id, 'sla', 0, p_now, p_sla_at from m where p_sla_at is not null
			on conflict do nothing
		)
		select m.id, m.customer_id, m.seq, m.created_at, o.id, o.attempts = 1, exists (select 1 from h),
			c.telegram_user_id, c.topic_id, c.card_message_id
		from m, o, c;
		RETURN;
	END IF;

	RETURN QUERY
	with input as (
		select * from unnest(p_customers, p_channels, p_texts, p_client_ids, p_leases)
			as u(customer_id, channel, text, client_message_id, lease_until)
	), c as (
		update customers set last_message_at = p_now
		where id in (
			select id from customers where id = any(p_customers) and status = any(p_kept)
			order by id for no key update skip locked
		)
		returning id, telegram_user_id, topic_id, card_message_id
	), m as (
		insert into messages (customer_id, author, channel, text, client_message_id)
		select i.customer_id, 'user', i.channel, i.text, i.client_message_id
		from input i join c on c.id = i.customer_id
		on conflict (customer_id, client_message_id) do nothing
		returning id, customer_id, seq, created_at
	), q as (
		-- Every head the batch may take, locked first and in order (then the upsert below only
		-- takes locks it already holds).
		select customer_id, head_id from outbox_heads where customer_id in (select customer_id from m)
		order by customer_id for update
	), o as (
		insert into outbox (customer_id, kind, payload, target, priority, locked_until, attempts)
		select m.customer_id, p_kind, jsonb_build_object('messageId', m.id), p_target, p_priority,
			coalesce(l.until, 'epoch'), case when l.until is null then 0 else 1 end
		from m join input i on i.customer_id = m.customer_id
		left join q on q.customer_id = m.customer_id
		left join lateral (select i.lease_until as until where q.head_id is null) l on true
		returning id, customer_id, next_attempt_at, locked_until, attempts
	), h as (
		insert into outbox_heads as x (customer_id, head_id, target, priority, ready_at)
		select o.customer_id, o.id, p_target, p_priority, greatest(o.next_attempt_at, o.locked_until)
		from o
		on conflict (customer_id) do update set head_id = excluded.head_id,
			target = excluded.target, priority = excluded.priority, ready_at = excluded.ready_at
		where x.head_id is null
		returning x.customer_id
	), t as (
		insert into timers (customer_id, kind, step, since, fire_at)
		select m.customer_id, 'sla', 0, p_now, p_sla_at from m where p_sla_at is not null
		on conflict do nothing
	)
	select m.id, m.customer_id, m.seq, m.created_at, o.id, o.attempts = 1,
		exists (select 1 from h where h.customer_id = m.customer_id),
		c.telegram_user_id, c.topic_id, c.card_message_id
	from m join o on o.customer_id = m.customer_id join c on c.id = m.customer_id;
END;
$$;
