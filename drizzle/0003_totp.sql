ALTER TABLE "alt_logins" ADD COLUMN "totp_secret" text;--> statement-breakpoint
ALTER TABLE "alt_logins" ADD COLUMN "totp_last_step" integer;