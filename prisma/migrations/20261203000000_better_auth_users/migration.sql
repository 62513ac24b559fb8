-- The app's users are Better Auth's. Its tables (email and password, and the JWT plugin's jwks) become part of
-- the schema todo-db owns, shaped as Better Auth 1.7 expects them on PostgreSQL (its getMigrations finds
-- nothing to create or add), with Prisma's default names for prisma/schema.prisma. todo-db's own "users"
-- table goes: every user moves to "user" with a credential "account" that keeps the password hash, every task
-- keeps its owner, and tasks.user_id becomes text referencing "user"(id) ON DELETE CASCADE.
--
-- A database where Better Auth already made its tables (its own CLI's migrate) is adopted: IF NOT EXISTS keeps
-- those tables and their rows, and a todo-db user whose email a Better Auth user already has is that user (their
-- tasks move to that id; the Better Auth user's accounts are left as they are). An inactive user (is_active
-- false) has no place in Better Auth's schema, so the migration stops, changing nothing, if there is one.
-- Names: a user without a name gets '' (Better Auth requires one); down.sql makes '' NULL again.

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM "users" WHERE NOT "is_active") THEN
        RAISE EXCEPTION 'users has % inactive user(s), and Better Auth''s "user" table has no place for is_active', (SELECT count(*) FROM "users" WHERE NOT "is_active")
            USING HINT = 'Delete or reactivate them (update users set is_active = true), then run todo-db migrate up again.';
    END IF;
END
$$;

-- CreateTable
CREATE TABLE IF NOT EXISTS "user" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "emailVerified" BOOLEAN NOT NULL DEFAULT false,
    "image" TEXT,
    "createdAt" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "user_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE IF NOT EXISTS "session" (
    "id" TEXT NOT NULL,
    "expiresAt" TIMESTAMPTZ(6) NOT NULL,
    "token" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(6) NOT NULL,
    "ipAddress" TEXT,
    "userAgent" TEXT,
    "userId" TEXT NOT NULL,

    CONSTRAINT "session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE IF NOT EXISTS "account" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "providerId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "accessToken" TEXT,
    "refreshToken" TEXT,
    "idToken" TEXT,
    "accessTokenExpiresAt" TIMESTAMPTZ(6),
    "refreshTokenExpiresAt" TIMESTAMPTZ(6),
    "scope" TEXT,
    "password" TEXT,
    "createdAt" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE IF NOT EXISTS "verification" (
    "id" TEXT NOT NULL,
    "identifier" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "expiresAt" TIMESTAMPTZ(6) NOT NULL,
    "createdAt" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "verification_pkey" PRIMARY KEY ("id")
);

-- CreateTable: the JWT plugin's signing keys.
CREATE TABLE IF NOT EXISTS "jwks" (
    "id" TEXT NOT NULL,
    "publicKey" TEXT NOT NULL,
    "privateKey" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(6) NOT NULL,
    "expiresAt" TIMESTAMPTZ(6),
    "alg" TEXT,
    "crv" TEXT,

    CONSTRAINT "jwks_pkey" PRIMARY KEY ("id")
);

-- Columns the JWT plugin added after its first releases, for a jwks table an older Better Auth made.
ALTER TABLE "jwks" ADD COLUMN IF NOT EXISTS "expiresAt" TIMESTAMPTZ(6), ADD COLUMN IF NOT EXISTS "alg" TEXT, ADD COLUMN IF NOT EXISTS "crv" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX IF NOT EXISTS "user_email_key" ON "user"("email");

-- CreateIndex
CREATE UNIQUE INDEX IF NOT EXISTS "session_token_key" ON "session"("token");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "session_userId_idx" ON "session"("userId");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "account_userId_idx" ON "account"("userId");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "verification_identifier_idx" ON "verification"("identifier");

-- AddForeignKey: replaced where Better Auth made it (ON UPDATE NO ACTION), so every database ends the same.
ALTER TABLE "session" DROP CONSTRAINT IF EXISTS "session_userId_fkey",
    ADD CONSTRAINT "session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account" DROP CONSTRAINT IF EXISTS "account_userId_fkey",
    ADD CONSTRAINT "account_userId_fkey" FOREIGN KEY ("userId") REFERENCES "user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Every todo-db user becomes a Better Auth user with the same id, as text, unless Better Auth has that email.
-- todo-db-lint: allow data-change-with-ddl -- moving the rows is what this migration is for; "user" is new or Better Auth's own
INSERT INTO "user" ("id", "name", "email", "emailVerified", "createdAt", "updatedAt")
SELECT u."id"::text, coalesce(u."name", ''), u."email", u."email_verified", u."created_at", u."updated_at"
  FROM "users" u
 WHERE NOT EXISTS (SELECT 1 FROM "user" b WHERE lower(b."email") = u."email");

-- Their password hashes go to credential accounts, which is where Better Auth's signInEmail reads them
-- (accountId is the user's id, as Better Auth writes it). seed-dev's hashes are bcrypt: see the README.
-- todo-db-lint: allow data-change-with-ddl -- moving the rows is what this migration is for; "account" is new or Better Auth's own
INSERT INTO "account" ("id", "accountId", "providerId", "userId", "password", "createdAt", "updatedAt")
SELECT gen_random_uuid()::text, b."id", 'credential', b."id", u."password_hash", u."created_at", u."updated_at"
  FROM "users" u
  JOIN "user" b ON b."id" = u."id"::text;

-- tasks.user_id holds Better Auth user ids, which are text. The change rewrites tasks once.
ALTER TABLE "tasks" DROP CONSTRAINT "tasks_user_id_fkey";

-- todo-db-lint: allow alter-column-type, large-table-lock -- uuid to text cannot avoid the rewrite; it happens once, when the app moves to Better Auth's users
ALTER TABLE "tasks" ALTER COLUMN "user_id" SET DATA TYPE TEXT USING "user_id"::text;

-- The tasks of a todo-db user whose email a Better Auth user already had go to that user. The trigger that moves
-- updated_at is held off: the task itself does not change.
ALTER TABLE "tasks" DISABLE TRIGGER "tasks_set_updated_at";

-- todo-db-lint: allow data-change-with-ddl -- moving each task to its owner's Better Auth id, under the lock the rewrite already holds
UPDATE "tasks" t
   SET "user_id" = b."id"
  FROM "users" u
  JOIN "user" b ON lower(b."email") = u."email"
 WHERE t."user_id" = u."id"::text
   AND b."id" <> t."user_id";

ALTER TABLE "tasks" ENABLE TRIGGER "tasks_set_updated_at";

-- AddForeignKey
-- todo-db-lint: allow constraint-without-not-valid -- tasks was rewritten above under ACCESS EXCLUSIVE, held until commit; validating here adds one scan under that lock
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- (user_id) leads (user_id, status) and (user_id, created_at DESC), which serve every query that it served.
-- todo-db-lint: allow index-without-concurrently -- tasks is locked ACCESS EXCLUSIVE by the rewrite above anyway
DROP INDEX "tasks_user_id_idx";

-- todo-db-lint: allow drop-object -- its rows moved to "user" and "account" above
DROP TABLE "users";
