DROP INDEX "users_username_uq";--> statement-breakpoint
DROP INDEX "users_username_prefix_idx";--> statement-breakpoint
CREATE UNIQUE INDEX "users_username_uq" ON "users" USING btree ("app_id",lower("username")) WHERE "users"."username" is not null;--> statement-breakpoint
CREATE INDEX "users_username_prefix_idx" ON "users" USING btree ("app_id",lower("username") text_pattern_ops) WHERE "users"."username" is not null;