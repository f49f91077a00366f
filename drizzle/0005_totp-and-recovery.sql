ALTER TABLE "alt_logins" ADD COLUMN "recovery" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "alt_logins" ADD COLUMN "totp_secret" text;--> statement-breakpoint
ALTER TABLE "alt_logins" ADD COLUMN "totp_last_step" integer;