CREATE TABLE "login_notice_settings" (
	"user_id" integer PRIMARY KEY NOT NULL,
	"muted_kinds" text[] DEFAULT '{}'::text[] NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "login_notice_uses" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"login_id" integer NOT NULL,
	"method" text NOT NULL,
	"service" text NOT NULL,
	"ip" text,
	"client" text,
	"at" timestamp with time zone NOT NULL,
	"notice_id" bigint
);
--> statement-breakpoint
CREATE TABLE "login_notices" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"login_id" integer NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"sent_at" timestamp with time zone,
	"answered_at" timestamp with time zone,
	"answer" text,
	CONSTRAINT "login_notices_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "login_seen_clients" (
	"login_id" integer NOT NULL,
	"ip" text NOT NULL,
	"client" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "login_seen_clients_login_id_ip_client_pk" PRIMARY KEY("login_id","ip","client")
);
--> statement-breakpoint
ALTER TABLE "login_notice_settings" ADD CONSTRAINT "login_notice_settings_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "login_notice_uses" ADD CONSTRAINT "login_notice_uses_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "login_notice_uses" ADD CONSTRAINT "login_notice_uses_login_id_alt_logins_id_fk" FOREIGN KEY ("login_id") REFERENCES "public"."alt_logins"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "login_notice_uses" ADD CONSTRAINT "login_notice_uses_notice_id_login_notices_id_fk" FOREIGN KEY ("notice_id") REFERENCES "public"."login_notices"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "login_notices" ADD CONSTRAINT "login_notices_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "login_notices" ADD CONSTRAINT "login_notices_login_id_alt_logins_id_fk" FOREIGN KEY ("login_id") REFERENCES "public"."alt_logins"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "login_seen_clients" ADD CONSTRAINT "login_seen_clients_login_id_alt_logins_id_fk" FOREIGN KEY ("login_id") REFERENCES "public"."alt_logins"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "login_notice_uses_login_idx" ON "login_notice_uses" USING btree ("login_id","notice_id");--> statement-breakpoint
CREATE INDEX "login_notices_login_idx" ON "login_notices" USING btree ("login_id","created_at");