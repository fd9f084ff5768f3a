-- Thread and pin lookups through partial indexes: most messages are neither replies nor pinned,
-- and every send paid an insertion of NULL keys into both full indexes. Rebuilding them reads
-- the messages table once each; the new ones hold only replies and pinned messages.
DROP INDEX "messages_parent_idx";--> statement-breakpoint
DROP INDEX "messages_pinned_idx";--> statement-breakpoint
CREATE INDEX "messages_parent_idx" ON "messages" USING btree ("app_id","parent_id","seq") WHERE "messages"."parent_id" is not null;--> statement-breakpoint
CREATE INDEX "messages_pinned_idx" ON "messages" USING btree ("app_id","cid","pinned_at") WHERE "messages"."pinned_at" is not null;