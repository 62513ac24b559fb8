-- Undoes 20261123000000_init completely. Dropping a table drops its indexes, constraints and triggers;
-- no CASCADE, so an object a later migration made to depend on these stops the rollback instead of vanishing.

-- todo-db-lint: allow drop-object -- undoing the init migration removes everything it created, by design
DROP TABLE "tasks";

-- todo-db-lint: allow drop-object -- undoing the init migration removes everything it created, by design
DROP TABLE "users";

-- todo-db-lint: allow drop-object -- undoing the init migration removes everything it created, by design
DROP TYPE "task_priority";

-- todo-db-lint: allow drop-object -- undoing the init migration removes everything it created, by design
DROP TYPE "task_status";

DROP FUNCTION "public"."todo_sync_completed_at"();

DROP FUNCTION "public"."todo_set_updated_at"();

DROP FUNCTION "public"."todo_tags_valid"(TEXT[]);
