CREATE TABLE "operators" (
	"telegram_user_id" bigint PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"username" text
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "operator_id" bigint;--> statement-breakpoint
CREATE INDEX "customers_status_idx" ON "customers" USING btree ("status");--> statement-breakpoint
CREATE INDEX "messages_support_at_idx" ON "messages" USING btree ("created_at") WHERE "messages"."author" = 'support';--> statement-breakpoint
CREATE INDEX "ticket_events_kind_at_idx" ON "ticket_events" USING btree ("kind","created_at");