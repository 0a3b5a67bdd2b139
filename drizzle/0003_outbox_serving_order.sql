DROP INDEX "outbox_due_idx";--> statement-breakpoint
CREATE INDEX "outbox_due_idx" ON "outbox" USING btree ("target","priority","next_attempt_at","id") WHERE "outbox"."state" = 'pending';