CREATE TABLE "web_saved_searches" (
	"id" text PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"terms" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "web_saved_searches" ADD CONSTRAINT "web_saved_searches_session_id_web_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."web_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "web_saved_searches_session_idx" ON "web_saved_searches" USING btree ("session_id","created_at");--> statement-breakpoint
CREATE INDEX "web_saved_searches_created_idx" ON "web_saved_searches" USING btree ("created_at");