ALTER TABLE "customers" ADD COLUMN "external_user_id" text;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "identity" jsonb;--> statement-breakpoint
CREATE UNIQUE INDEX "customers_external_user_id_uq" ON "customers" USING btree ("external_user_id");