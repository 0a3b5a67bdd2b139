/**
 * A message's number in its conversation (`messages.customer_seq`, the web's `seq`): 1 for a
 * customer's first message, then one more for each, whichever door or writer stores it. The
 * desk-wide `messages.seq` never reaches a visitor, so the first number a new visitor sees says
 * nothing about the desk's other conversations. New messages are numbered by a trigger
 * (src/db/functions/messages.sql); this module renumbers when two conversations become one.
 */
import { sql } from "drizzle-orm";
import type { Tx } from "../db/client.ts";

/**
 * Moves `loserId`'s messages to `survivorId` and numbers the merged history again, in the order
 * the messages were written: every message of both sides gets a new number above any either side
 * had given (numbers are never handed out twice), and the survivor's counter continues from the
 * last. Each side keeps its own order; the two interleave by the desk-wide `seq` (the highest one
 * so far on each side, which cannot disagree with that side's own order). So a client that caught
 * up to a message catches up after it in the merged history exactly as it would have before.
 * Call with both customers' rows locked: no message of either is being numbered meanwhile.
 */
export async function moveAndRenumberMessages(tx: Tx, survivorId: string, loserId: string) {
	await tx.execute(sql`with merged as (
		select id, customer_seq,
			max(seq) over (partition by customer_id order by customer_seq) as written
		from messages
		where customer_id in (${survivorId}, ${loserId})
			and exists (select 1 from messages where customer_id = ${loserId})
	), base as (
		select greatest(
			(select coalesce(max(last_seq), 0) from message_counters
				where customer_id in (${survivorId}, ${loserId})),
			(select coalesce(max(customer_seq), 0) from merged)) as n
	), numbered as (
		select m.id, b.n + row_number() over (order by m.written, m.customer_seq) as number
		from merged m cross join base b
	), moved as (
		update messages t set customer_id = ${survivorId}, customer_seq = x.number
		from numbered x where t.id = x.id
		returning t.customer_seq
	)
	insert into message_counters as c (customer_id, last_seq)
	select ${survivorId}, max(customer_seq) from moved having count(*) > 0
	on conflict (customer_id) do update set last_seq = excluded.last_seq`);
}
