CREATE TABLE "restricted_budget" (
	"user_id" integer NOT NULL,
	"login_id" integer NOT NULL,
	"day" date NOT NULL,
	"bytes" bigint NOT NULL,
	CONSTRAINT "restricted_budget_user_id_login_id_day_pk" PRIMARY KEY("user_id","login_id","day")
);
--> statement-breakpoint
ALTER TABLE "restricted_budget" ADD CONSTRAINT "restricted_budget_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;