-- Undoes 20261203000000_better_auth_users: todo-db's own "users" table comes back with every Better Auth user in
-- it, tasks.user_id becomes a uuid referencing it again, and Better Auth's five tables are dropped.
--
-- What this cannot bring back, and loses:
-- - sessions, verification tokens and the JWT plugin's keys (every signed-in user is signed out, every issued
--   JWT stops verifying), and accounts other than the credential one (social sign-ins), with user images;
-- - a user's id that is not a uuid (Better Auth's own ids are not): such a user gets a new uuid, and their tasks
--   follow it;
-- - a user without a credential account gets password_hash '!', which matches no password;
-- - Better Auth's tables that existed before the migration (made by Better Auth's own CLI) are dropped all the same.

-- CreateTable: as 20261123000000_init made it.
CREATE TABLE "users" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "email" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "name" TEXT,
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "email_verified" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id"),
    -- Lowercase only, so the plain unique index users_email_key is case-insensitive.
    CONSTRAINT "users_email_lowercase_check" CHECK ("email" = lower("email"))
);

-- Each Better Auth user's uuid: its own id when that is one.
CREATE TEMPORARY TABLE "todo_db_owner" ON COMMIT DROP AS
SELECT b."id" AS "ba_id",
       CASE WHEN b."id" ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN b."id"::uuid ELSE gen_random_uuid() END AS "id"
  FROM "user" b;

-- todo-db-lint: allow data-change-with-ddl -- moving the rows back is what this rollback is for
INSERT INTO "users" ("id", "email", "password_hash", "name", "email_verified", "created_at", "updated_at")
SELECT o."id", lower(b."email"), coalesce(a."password", '!'), nullif(b."name", ''), b."emailVerified", b."createdAt", b."updatedAt"
  FROM "user" b
  JOIN "todo_db_owner" o ON o."ba_id" = b."id"
  LEFT JOIN LATERAL (SELECT "password" FROM "account" WHERE "userId" = b."id" AND "providerId" = 'credential' AND "password" IS NOT NULL ORDER BY "createdAt" LIMIT 1) a ON true;

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateTrigger
CREATE TRIGGER "users_set_updated_at" BEFORE UPDATE ON "users"
    FOR EACH ROW EXECUTE FUNCTION "public"."todo_set_updated_at"();

ALTER TABLE "tasks" DROP CONSTRAINT "tasks_user_id_fkey";

-- The tasks of users whose id was not a uuid follow the new one; the task itself does not change.
ALTER TABLE "tasks" DISABLE TRIGGER "tasks_set_updated_at";

-- todo-db-lint: allow data-change-with-ddl -- moving each task to its owner's uuid
UPDATE "tasks" t
   SET "user_id" = o."id"::text
  FROM "todo_db_owner" o
 WHERE t."user_id" = o."ba_id"
   AND o."id"::text <> o."ba_id";

ALTER TABLE "tasks" ENABLE TRIGGER "tasks_set_updated_at";

-- todo-db-lint: allow alter-column-type, large-table-lock -- back to uuid; the rollback rewrites tasks once
ALTER TABLE "tasks" ALTER COLUMN "user_id" SET DATA TYPE UUID USING "user_id"::uuid;

-- todo-db-lint: allow index-without-concurrently -- tasks is locked ACCESS EXCLUSIVE by the rewrite above anyway
CREATE INDEX "tasks_user_id_idx" ON "tasks"("user_id");

-- todo-db-lint: allow constraint-without-not-valid -- tasks was rewritten above under ACCESS EXCLUSIVE, held until commit
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- todo-db-lint: allow drop-object -- undoing the migration removes Better Auth's tables, as the header says
DROP TABLE "jwks";

-- todo-db-lint: allow drop-object -- undoing the migration removes Better Auth's tables, as the header says
DROP TABLE "verification";

-- todo-db-lint: allow drop-object -- undoing the migration removes Better Auth's tables, as the header says
DROP TABLE "account";

-- todo-db-lint: allow drop-object -- undoing the migration removes Better Auth's tables, as the header says
DROP TABLE "session";

-- todo-db-lint: allow drop-object -- undoing the migration removes Better Auth's tables, as the header says
DROP TABLE "user";
