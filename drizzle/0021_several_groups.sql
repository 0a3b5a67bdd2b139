DROP INDEX "customers_topic_id_uq";--> statement-breakpoint
DROP INDEX "outbox_heads_ready_idx";--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "group_id" bigint;--> statement-breakpoint
ALTER TABLE "outbox_heads" ADD COLUMN "group_id" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "customers_group_topic_uq" ON "customers" USING btree (coalesce("group_id", 0),"topic_id");--> statement-breakpoint
CREATE INDEX "outbox_heads_ready_idx" ON "outbox_heads" USING btree ("target","group_id","priority","ready_at","head_id");