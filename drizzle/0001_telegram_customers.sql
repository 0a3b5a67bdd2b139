ALTER TABLE "customers" ADD COLUMN "telegram_first_name" text;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "telegram_last_name" text;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "locale" text;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "city" text;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "phone_asked_at" timestamp with time zone;