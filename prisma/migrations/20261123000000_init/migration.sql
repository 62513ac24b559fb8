-- The Todo app's first schema: users and their tasks. Table, index and foreign-key names are Prisma's defaults
-- for prisma/schema.prisma, so Prisma's differ agrees with this file. The CHECK constraints, functions and
-- triggers are beyond what Prisma can declare; they make the database enforce the rules for every client.
-- No BEGIN/COMMIT: todo-db runs each migration inside its own transaction.

-- Tags: 1 to 10 characters, lowercase, no surrounding whitespace, no NULL elements, one dimension.
-- A function because a CHECK cannot contain a subquery; IMMUTABLE because CHECK expressions must not
-- depend on anything but the row.
CREATE FUNCTION "public"."todo_tags_valid"(tags TEXT[]) RETURNS BOOLEAN
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(array_ndims(tags), 1) = 1
       AND NOT EXISTS (
           SELECT 1
             FROM unnest(tags) AS t(tag)
            WHERE tag IS NULL
               OR char_length(tag) NOT BETWEEN 1 AND 10
               OR tag <> lower(tag)
               OR tag ~ '^\s|\s$'
       )
$$;

-- Every update moves updated_at, whether or not the client remembered to.
CREATE FUNCTION "public"."todo_set_updated_at"() RETURNS TRIGGER
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- completed_at follows status. It runs BEFORE the row's CHECKs, so setting status alone is enough. A value
-- the client gives explicitly is kept; a contradictory one (completed_at on a pending task) is left for
-- tasks_completed_at_check to reject rather than silently dropped.
CREATE FUNCTION "public"."todo_sync_completed_at"() RETURNS TRIGGER
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'completed' AND NEW.completed_at IS NULL THEN
            NEW.completed_at := now();
        END IF;
    ELSIF NEW.status = 'completed' AND OLD.status <> 'completed' THEN
        IF NEW.completed_at IS NULL THEN
            NEW.completed_at := now();
        END IF;
    ELSIF NEW.status <> 'completed' AND OLD.status = 'completed' THEN
        IF NEW.completed_at IS NOT DISTINCT FROM OLD.completed_at THEN
            NEW.completed_at := NULL;
        END IF;
    END IF;
    RETURN NEW;
END;
$$;

-- CreateEnum
CREATE TYPE "task_status" AS ENUM ('pending', 'completed');

-- CreateEnum
CREATE TYPE "task_priority" AS ENUM ('low', 'medium', 'high');

-- CreateTable
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

-- CreateTable
CREATE TABLE "tasks" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "description" VARCHAR(1000),
    "status" "task_status" NOT NULL DEFAULT 'pending',
    "priority" "task_priority" NOT NULL DEFAULT 'medium',
    "due_date" TIMESTAMPTZ(6),
    "tags" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "completed_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tasks_pkey" PRIMARY KEY ("id"),
    -- VARCHAR(200) already caps the raw length; this also refuses a blank title.
    CONSTRAINT "tasks_title_length_check" CHECK (char_length(btrim("title")) BETWEEN 1 AND 200),
    CONSTRAINT "tasks_description_length_check" CHECK (char_length("description") <= 1000),
    CONSTRAINT "tasks_tags_count_check" CHECK (cardinality("tags") <= 20),
    CONSTRAINT "tasks_tags_valid_check" CHECK ("public"."todo_tags_valid"("tags")),
    CONSTRAINT "tasks_completed_at_check" CHECK (("status" = 'completed') = ("completed_at" IS NOT NULL))
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE INDEX "tasks_user_id_idx" ON "tasks"("user_id");

-- CreateIndex
CREATE INDEX "tasks_status_idx" ON "tasks"("status");

-- CreateIndex
CREATE INDEX "tasks_priority_idx" ON "tasks"("priority");

-- CreateIndex
CREATE INDEX "tasks_due_date_idx" ON "tasks"("due_date");

-- CreateIndex
CREATE INDEX "tasks_created_at_idx" ON "tasks"("created_at");

-- CreateIndex
CREATE INDEX "tasks_user_id_status_idx" ON "tasks"("user_id", "status");

-- CreateIndex: the app's list query, one user's tasks newest first.
CREATE INDEX "tasks_user_id_created_at_idx" ON "tasks"("user_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "tasks_tags_idx" ON "tasks" USING GIN ("tags");

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTrigger
CREATE TRIGGER "users_set_updated_at" BEFORE UPDATE ON "users"
    FOR EACH ROW EXECUTE FUNCTION "public"."todo_set_updated_at"();

-- CreateTrigger
CREATE TRIGGER "tasks_set_updated_at" BEFORE UPDATE ON "tasks"
    FOR EACH ROW EXECUTE FUNCTION "public"."todo_set_updated_at"();

-- CreateTrigger
CREATE TRIGGER "tasks_sync_completed_at" BEFORE INSERT OR UPDATE ON "tasks"
    FOR EACH ROW EXECUTE FUNCTION "public"."todo_sync_completed_at"();
