import type { MigrationSource } from './migrations.js';

/**
 * A long migration history as Prisma writes it (its comment headers, quoted mixed-case names, TIMESTAMP(3),
 * SERIAL, the enum rebuild it generates to remove a value, without its BEGIN/COMMIT), with the hand edits teams
 * make to Prisma's drafts: renames of tables, columns, indexes, constraints and types. Every migration works on
 * what an earlier one created: on a fresh database all of it is new.
 */
export const PRISMA_HISTORY: Record<string, MigrationSource> = {
  '20240101000000_init': {
    up: `-- CreateEnum
CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN', 'GUEST');

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "role" "Role" NOT NULL DEFAULT 'USER',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Post" (
    "id" SERIAL NOT NULL,
    "title" TEXT NOT NULL,
    "content" TEXT,
    "published" BOOLEAN NOT NULL DEFAULT false,
    "authorId" TEXT NOT NULL,

    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
`,
  },
  '20240102000000_profile': {
    up: `-- CreateTable
CREATE TABLE "Profile" (
    "id" SERIAL NOT NULL,
    "bio" TEXT,
    "userId" TEXT NOT NULL,

    CONSTRAINT "Profile_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Profile_userId_key" ON "Profile"("userId");

-- AddForeignKey
ALTER TABLE "Profile" ADD CONSTRAINT "Profile_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
`,
  },
  '20240103000000_post_title_index': {
    up: `-- CreateIndex
CREATE INDEX "Post_title_idx" ON "Post"("title");
`,
  },
  '20240104000000_post_author_index': {
    up: `-- DropIndex
DROP INDEX "Post_title_idx";

-- CreateIndex
CREATE INDEX "Post_authorId_idx" ON "Post"("authorId");
`,
  },
  '20240105000000_rename_post_to_article': {
    up: `-- Renamed by hand: Prisma drafts a DROP TABLE and a CREATE TABLE
ALTER TABLE "Post" RENAME TO "Article";
ALTER SEQUENCE "Post_id_seq" RENAME TO "Article_id_seq";
ALTER TABLE "Article" RENAME CONSTRAINT "Post_pkey" TO "Article_pkey";
ALTER TABLE "Article" RENAME CONSTRAINT "Post_authorId_fkey" TO "Article_authorId_fkey";
ALTER INDEX "Post_authorId_idx" RENAME TO "Article_authorId_idx";
`,
  },
  '20240106000000_article_slug': {
    up: `-- AlterTable
ALTER TABLE "Article" ADD COLUMN     "slug" TEXT NOT NULL,
ALTER COLUMN "title" SET DATA TYPE VARCHAR(200);

-- Renamed by hand: Prisma drafts a DROP COLUMN and an ADD COLUMN
ALTER TABLE "Article" RENAME COLUMN "content" TO "body";

-- CreateIndex
CREATE UNIQUE INDEX "Article_slug_key" ON "Article"("slug");

-- DropIndex
DROP INDEX "Article_authorId_idx";
`,
  },
  '20240107000000_remove_guest_role': {
    up: `-- AlterEnum
CREATE TYPE "Role_new" AS ENUM ('USER', 'ADMIN');
ALTER TABLE "User" ALTER COLUMN "role" DROP DEFAULT;
ALTER TABLE "User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");
ALTER TYPE "Role" RENAME TO "Role_old";
ALTER TYPE "Role_new" RENAME TO "Role";
DROP TYPE "Role_old";
ALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT 'USER';
`,
  },
  '20240108000000_moderator_role': {
    up: `-- AlterEnum
ALTER TYPE "Role" ADD VALUE 'MODERATOR';

-- AlterEnum
ALTER TYPE "Role" RENAME VALUE 'ADMIN' TO 'OWNER';
`,
  },
  '20240109000000_drop_profile': {
    up: `-- DropForeignKey
ALTER TABLE "Profile" DROP CONSTRAINT "Profile_userId_fkey";

-- DropTable
DROP TABLE "Profile";
`,
  },
  '20240110000000_user_display_name': {
    up: `-- AlterTable
ALTER TABLE "User" DROP COLUMN "name",
ADD COLUMN     "displayName" TEXT;

-- Renamed by hand
ALTER TABLE "User" RENAME COLUMN "createdAt" TO "created_at";
`,
  },
  '20240111000000_rename_user_to_account': {
    up: `-- Renamed by hand
ALTER TABLE "User" RENAME TO "Account";
ALTER TABLE "Account" RENAME CONSTRAINT "User_pkey" TO "Account_pkey";
ALTER INDEX "User_email_key" RENAME TO "Account_email_key";
`,
  },
  '20240112000000_account_email': {
    up: `-- DropIndex
DROP INDEX "Account_email_key";

-- AlterTable
ALTER TABLE "Account" ALTER COLUMN "email" SET DATA TYPE VARCHAR(320),
ALTER COLUMN "displayName" SET NOT NULL,
ADD CONSTRAINT "Account_email_check" CHECK ("email" = lower("email"));

-- CreateIndex
CREATE UNIQUE INDEX "Account_email_key" ON "Account"("email");
`,
  },
  '20240113000000_account_display_name_nullable': {
    up: `-- AlterTable
ALTER TABLE "Account" ALTER COLUMN "displayName" DROP NOT NULL,
DROP COLUMN "created_at";
`,
  },
  '20240114000000_drop_article': {
    up: `-- DropForeignKey
ALTER TABLE "Article" DROP CONSTRAINT "Article_authorId_fkey";

-- DropTable
DROP TABLE "Article";

-- AlterTable
ALTER TABLE "Account" DROP COLUMN "role";

-- DropEnum
DROP TYPE "Role";
`,
  },
};
