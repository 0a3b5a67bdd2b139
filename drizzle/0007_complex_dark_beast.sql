CREATE TABLE "quota_usage" (
	"key" text NOT NULL,
	"day" date NOT NULL,
	"used" bigint NOT NULL,
	CONSTRAINT "quota_usage_key_day_pk" PRIMARY KEY("key","day")
);
--> statement-breakpoint
ALTER TABLE "web_sessions" ADD COLUMN "client_key" text;--> statement-breakpoint
CREATE INDEX "quota_usage_day_idx" ON "quota_usage" USING btree ("day");