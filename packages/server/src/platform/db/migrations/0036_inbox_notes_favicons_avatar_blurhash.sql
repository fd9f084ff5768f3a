ALTER TABLE "inbox_items" ADD COLUMN "note_id" uuid;--> statement-breakpoint
ALTER TABLE "link_previews" ADD COLUMN "icon" jsonb;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "image_blurhash" text;