-- AlterTable
ALTER TABLE "Post" ADD COLUMN     "slug" TEXT;

-- Backfill
UPDATE "Post" SET "slug" = lower(replace("title", ' ', '-')) WHERE "slug" IS NULL;
