ALTER TABLE "media" ADD COLUMN "expired_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "media_retention_idx" ON "media" USING btree ("created_at") WHERE "media"."expired_at" is null;--> statement-breakpoint
CREATE INDEX "outbox_done_idx" ON "outbox" USING btree ("done_at") WHERE "outbox"."state" = 'done';--> statement-breakpoint
CREATE INDEX "processed_updates_at_idx" ON "processed_updates" USING btree ("processed_at");