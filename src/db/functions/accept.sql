-- The accept of a web message on an open ticket (src/core/fast-accept.ts): the message, the
-- customer's last activity, the copy owed to the topic with its queue's head, and the SLA clock,
-- in one statement. This file is the one current text of these functions; src/db/migrate.ts
-- applies it after the migrations at every start.

CREATE OR REPLACE FUNCTION accept_web_message(
	p_now timestamptz, p_customer uuid, p_channel text, p_text text, p_client_id text,
	p_sla_at timestamptz, p_lease timestamptz, p_opening_limit integer, p_kept text[],
	p_kind text, p_target text, p_priority integer)
RETURNS TABLE (id uuid, customer_id uuid, seq bigint, created_at timestamptz, outbox_id bigint,
	leased boolean, took_head boolean, chat_id bigint, topic_id integer, card_message_id integer,
	refused boolean, held boolean)
LANGUAGE plpgsql
SET enable_seqscan = off
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
	v_key text;
BEGIN
	IF p_opening_limit IS NOT NULL THEN
		-- The customer's row first, so that the quota is read and spent for the message that is
		-- then stored.
		PERFORM 1 FROM customers WHERE id = p_customer FOR NO KEY UPDATE;
		SELECT (select s.client_key from web_sessions s where s.customer_id = c.id
				order by s.created_at limit 1)
		INTO v_key
		FROM customers c
		WHERE c.id = p_customer AND c.status = any(p_kept) AND c.topic_id IS NULL
			AND NOT EXISTS (select 1 from messages m where m.customer_id = c.id and m.author = 'user');
		IF v_key IS NOT NULL THEN
			insert into quota_usage as q (key, day, used)
			select 'topic:' || v_key, (now() at time zone 'utc')::date, 1 where 1 <= p_opening_limit
			on conflict (key, day) do update set used = q.used + 1 where q.used + 1 <= p_opening_limit;
			IF NOT FOUND THEN
				RETURN QUERY
				select null::uuid, p_customer, null::bigint, null::timestamptz, null::bigint, false,
					false, null::bigint, null::integer, null::integer, true, false;
				RETURN;
			END IF;
		END IF;
	END IF;

	RETURN QUERY
	with c as (
		update customers set last_message_at = p_now
		where id = p_customer and status = any(p_kept)
		returning id, telegram_user_id, topic_id, card_message_id
	), m as (
		insert into messages (customer_id, author, channel, text, client_message_id)
		select c.id, 'user', p_channel, p_text, p_client_id from c
		on conflict (customer_id, client_message_id) do nothing
		returning id, customer_id, seq, created_at
	), q as (
		select head_id from outbox_heads
		where customer_id = p_customer and p_lease is not null
		for update
	), lease as (
		select p_lease as until
		where p_lease is not null and not exists (select 1 from q where head_id is not null)
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
		c.telegram_user_id, c.topic_id, c.card_message_id, false, false
	from m, o, c;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION accept_web_messages(
	p_now timestamptz, p_customers uuid[], p_channels text[], p_texts text[], p_client_ids text[],
	p_sla_at timestamptz, p_leases timestamptz[], p_opening_limits integer[], p_kept text[],
	p_kind text, p_target text, p_priority integer)
RETURNS TABLE (id uuid, customer_id uuid, seq bigint, created_at timestamptz, outbox_id bigint,
	leased boolean, took_head boolean, chat_id bigint, topic_id integer, card_message_id integer,
	refused boolean, held boolean)
LANGUAGE plpgsql
SET enable_seqscan = off
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
	v_openers boolean := cardinality(array_remove(p_opening_limits, NULL)) > 0;
	v_locked uuid[];
	v_held uuid[] := '{}';
	v_refused uuid[] := '{}';
	v_customer uuid;
	v_key text;
	v_limit integer;
BEGIN
	-- A batch never waits for one customer: held rows are skipped and named.
	v_locked := array(
		select id from customers where id = any(p_customers) and status = any(p_kept)
		order by id for no key update skip locked);
	IF cardinality(v_locked) < cardinality(p_customers) THEN
		v_held := array(
			select id from customers where id = any(p_customers) and status = any(p_kept)
				and id <> all(v_locked));
	END IF;

	IF v_openers THEN
		FOR v_customer, v_key, v_limit IN
			select c.id, (select s.client_key from web_sessions s where s.customer_id = c.id
					order by s.created_at limit 1), u.opening_limit
			from unnest(p_customers, p_opening_limits) as u(customer_id, opening_limit)
			join customers c on c.id = u.customer_id
			where u.opening_limit is not null and c.id = any(v_locked) and c.status = any(p_kept)
				and c.topic_id is null
				and not exists (select 1 from messages m where m.customer_id = c.id and m.author = 'user')
			order by 2, 1
		LOOP
			CONTINUE WHEN v_key IS NULL;
			insert into quota_usage as q (key, day, used)
			select 'topic:' || v_key, (now() at time zone 'utc')::date, 1 where 1 <= v_limit
			on conflict (key, day) do update set used = q.used + 1 where q.used + 1 <= v_limit;
			IF NOT FOUND THEN
				v_refused := v_refused || v_customer;
			END IF;
		END LOOP;
	END IF;

	RETURN QUERY
	with input as (
		select * from unnest(p_customers, p_channels, p_texts, p_client_ids, p_leases)
			as u(customer_id, channel, text, client_message_id, lease_until)
	), c as (
		update customers set last_message_at = p_now
		where id = any(v_locked) and id <> all(v_refused)
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
		c.telegram_user_id, c.topic_id, c.card_message_id, false, false
	from m join o on o.customer_id = m.customer_id join c on c.id = m.customer_id;

	IF cardinality(v_refused) + cardinality(v_held) > 0 THEN
		RETURN QUERY
		select null::uuid, r, null::bigint, null::timestamptz, null::bigint, false, false,
			null::bigint, null::integer, null::integer, r = any(v_refused), r = any(v_held)
		from unnest(v_refused || v_held) as r;
	END IF;
END;
$$;
