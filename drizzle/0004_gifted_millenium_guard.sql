CREATE TABLE "failed_updates" (
	"update_id" bigint PRIMARY KEY NOT NULL,
	"update" jsonb NOT NULL,
	"reason" text NOT NULL,
	"attempts" integer NOT NULL,
	"failed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "link_tokens" ADD COLUMN "offered_to" bigint;--> statement-breakpoint
ALTER TABLE "timers" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "timers" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "timers" ADD COLUMN "parked_at" timestamp with time zone;