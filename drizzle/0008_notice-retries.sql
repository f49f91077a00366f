ALTER TABLE "login_notices" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "login_notices" ADD COLUMN "next_attempt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "login_notices" ADD COLUMN "gave_up_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "login_notices" ADD COLUMN "last_failure" text;--> statement-breakpoint
CREATE INDEX "login_notices_due_idx" ON "login_notices" USING btree ("next_attempt_at");