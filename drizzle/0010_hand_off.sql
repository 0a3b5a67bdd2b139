-- The hand-off (README): a copy filed already leased to the accepting instance whose queue head
-- another copy took first gets its lease back. The queue's head is locked first (by customer,
-- since the copy is not its head yet), as every writer does: a finish that is making this copy
-- the head either commits before (and the sync below makes it ready now) or after (and reads
-- the lease already gone).
CREATE FUNCTION outbox_give_back(item bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE q uuid;
BEGIN
	SELECT coalesce(customer_id, '00000000-0000-0000-0000-000000000000') INTO q FROM outbox
		WHERE id = item;
	IF q IS NULL THEN RETURN; END IF;
	PERFORM 1 FROM outbox_heads WHERE customer_id = q FOR UPDATE;
	UPDATE outbox SET locked_until = 'epoch', attempts = greatest(0, attempts - 1)
		WHERE id = item AND state = 'pending';
	PERFORM outbox_head_sync(q);
END $$;
