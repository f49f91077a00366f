-- The web session lookup that every page view runs (src/auth/web-sessions.ts, validateWebSession).
-- As a PL/pgSQL function its query is planned once per database connection and the plan kept: on the
-- embedded PGlite, where nothing else keeps plans, planning the four-join query was ~0.6 ms of every
-- request (0.9 ms for the query against 0.2 ms through this function, measured). When a column used
-- here changes in src/db/schema.ts, change this function in a new migration.
CREATE FUNCTION "postern_web_session"("session_id" text)
RETURNS TABLE (
  "id" text,
  "secret_hash" text,
  "user_id" integer,
  "login_id" integer,
  "method" text,
  "restricted" boolean,
  "csrf_token" text,
  "created_at" timestamp with time zone,
  "last_seen_at" timestamp with time zone,
  "idle_timeout_seconds" integer,
  "expires_at" timestamp with time zone,
  "reauth_at" timestamp with time zone,
  "revoked_at" timestamp with time zone,
  "username" text,
  "upstream_user" text,
  "disabled" boolean,
  "must_change_password" boolean,
  "login_label" text,
  "login_revoked_at" timestamp with time zone,
  "group_id" integer,
  "group_name" text,
  "group_kind" text,
  "group_allow_sms" boolean,
  "group_is_admin" boolean,
  "now" timestamp with time zone
)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN QUERY
  SELECT s."id", s."secret_hash", s."user_id", s."login_id", s."method", s."restricted", s."csrf_token",
         s."created_at", s."last_seen_at", s."idle_timeout_seconds", s."expires_at", s."reauth_at", s."revoked_at",
         u."username", u."upstream_user", u."disabled", u."must_change_password",
         l."label", l."revoked_at",
         g."id", g."name", g."kind", g."allow_sms", m."is_admin",
         now()
  FROM "web_sessions" s
  JOIN "users" u ON u."id" = s."user_id"
  LEFT JOIN "alt_logins" l ON l."id" = s."login_id"
  LEFT JOIN "group_members" m ON m."user_id" = s."user_id"
  LEFT JOIN "groups" g ON g."id" = m."group_id"
  WHERE s."id" = "session_id";
END
$$;
