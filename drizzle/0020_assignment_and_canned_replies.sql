CREATE TABLE "canned_replies" (
	"name" text NOT NULL,
	"locale" text NOT NULL,
	"text" text NOT NULL,
	"source" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "canned_replies_name_locale_pk" PRIMARY KEY("name","locale")
);
--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "assignee_id" bigint;--> statement-breakpoint
CREATE INDEX "operators_username_idx" ON "operators" USING btree (lower("username"));