CREATE TABLE "address_confirmations" (
	"id" serial PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"address" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	CONSTRAINT "address_confirmations_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "group_domains" (
	"domain" text PRIMARY KEY NOT NULL,
	"group_id" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "proven_addresses" (
	"address" text PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"proven_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "submissions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"login_id" integer,
	"recipients" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "address_confirmations" ADD CONSTRAINT "address_confirmations_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_domains" ADD CONSTRAINT "group_domains_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "proven_addresses" ADD CONSTRAINT "proven_addresses_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "submissions" ADD CONSTRAINT "submissions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "address_confirmations_user_idx" ON "address_confirmations" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "proven_addresses_user_idx" ON "proven_addresses" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "submissions_user_idx" ON "submissions" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "submissions_login_idx" ON "submissions" USING btree ("login_id","created_at");--> statement-breakpoint
-- data migration: until now no address was proven. The operator gave each user their first (default at
-- creation) personality's address and a login name that is an address; those stay usable. Every other
-- personality address is unverified and must be confirmed. Where two users claimed one address, the
-- earlier claim keeps it.
INSERT INTO "proven_addresses" ("address", "user_id", "proven_by")
SELECT "address", "user_id", 'operator' FROM (
  SELECT lower("username") AS "address", "id" AS "user_id", 0 AS "rank", "id" AS "ord" FROM "users" WHERE "username" ~ '^[^[:space:]@]+@[^[:space:]@]+$'
  UNION ALL
  SELECT lower(p."email"), p."user_id", 1, p."id" FROM "personalities" p
  WHERE p."email" <> '' AND p."id" = (SELECT min(q."id") FROM "personalities" q WHERE q."user_id" = p."user_id")
) AS "given"
ORDER BY "rank", "ord"
ON CONFLICT ("address") DO NOTHING;
