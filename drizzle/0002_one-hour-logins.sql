CREATE TABLE "pending_actions" (
	"id" text PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"user_id" integer NOT NULL,
	"path" text NOT NULL,
	"sealed_form" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "alt_logins" ADD COLUMN "valid_for_seconds" integer;--> statement-breakpoint
ALTER TABLE "alt_logins" ADD COLUMN "creation_key" text;--> statement-breakpoint
ALTER TABLE "pending_actions" ADD CONSTRAINT "pending_actions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "pending_actions_session_idx" ON "pending_actions" USING btree ("session_id");--> statement-breakpoint
ALTER TABLE "alt_logins" ADD CONSTRAINT "alt_logins_creation_key_unique" UNIQUE("creation_key");