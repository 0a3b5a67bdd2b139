-- Messages get a number within their conversation (`customer_seq`), which is what the web sees as
-- `seq`: the desk-wide `seq` told a brand-new visitor how many messages the desk had had. Existing
-- messages are numbered 1, 2, 3, … per customer in the order of `seq`, and each customer's counter
-- starts after its last number. The backfill runs before the unique index is built (drizzle-kit
-- generated the statements; the two data statements were placed between them by hand). The
-- trigger that numbers new rows lives with its function in src/db/functions/messages.sql.
CREATE TABLE "message_counters" (
	"customer_id" uuid PRIMARY KEY NOT NULL,
	"last_seq" bigint NOT NULL
);
--> statement-breakpoint
DROP INDEX "messages_customer_seq_idx";--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "customer_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "message_counters" ADD CONSTRAINT "message_counters_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
UPDATE "messages" m SET "customer_seq" = n.number
FROM (
	SELECT id, row_number() OVER (PARTITION BY customer_id ORDER BY seq) AS number FROM "messages"
) n
WHERE m.id = n.id;--> statement-breakpoint
INSERT INTO "message_counters" ("customer_id", "last_seq")
SELECT customer_id, max(customer_seq) FROM "messages" GROUP BY customer_id;--> statement-breakpoint
CREATE UNIQUE INDEX "messages_customer_number_uq" ON "messages" USING btree ("customer_id","customer_seq");
