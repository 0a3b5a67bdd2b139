-- Numbering a customer's messages within their conversation (messages.customer_seq: 1, 2, 3, …),
-- which is what the web sees as a message's `seq`; the desk-wide `seq` stays inside the service.
-- A trigger, so every writer numbers the same way (the accept statement, operator replies, system
-- messages, and anything a test or a repair inserts) without a second text of the rule.
--
-- The counter has a row of its own (message_counters), not a column of customers: the accept
-- statement updates the customer's row in the same statement that inserts, and PostgreSQL refuses
-- an update of a row that a trigger of the same statement already changed. It only grows, so no
-- number is handed out twice: erasure deletes messages but keeps it, and a merge numbers the merged
-- history above both sides' numbers (src/core/message-numbers.ts).
--
-- Locks: the customer's row first (FOR KEY SHARE, what the message's foreign key takes anyway, and
-- nothing when the writer holds a stronger lock already, as the accept, operator replies and status
-- changes do), then the counter's row, held to the commit. Every writer thus takes customer before
-- counter, and two messages of one customer get their numbers, and commit, one after the other: a
-- client catching up after the last number it saw misses nothing. A customer that no longer exists
-- (merged into another meanwhile) fails as the foreign key would, which the web door answers by
-- writing to the surviving customer.
CREATE OR REPLACE FUNCTION messages_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM customers WHERE id = NEW.customer_id FOR KEY SHARE;
	IF NOT FOUND THEN
		RAISE foreign_key_violation USING
			MESSAGE = 'messages.customer_id names no customer',
			TABLE = 'messages';
	END IF;
	INSERT INTO message_counters AS c (customer_id, last_seq) VALUES (NEW.customer_id, 1)
	ON CONFLICT (customer_id) DO UPDATE SET last_seq = c.last_seq + 1
	RETURNING c.last_seq INTO NEW.customer_seq;
	RETURN NEW;
END $$;
--> statement-breakpoint
CREATE OR REPLACE TRIGGER messages_number BEFORE INSERT ON messages
FOR EACH ROW EXECUTE FUNCTION messages_number();
