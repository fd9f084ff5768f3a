CREATE SEQUENCE "public"."member_read_rev" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
-- A constant default first (no rewrite of the table, no long lock), then the sequence for new rows.
ALTER TABLE "members" ADD COLUMN "read_rev" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "members" ALTER COLUMN "read_rev" SET DEFAULT nextval('member_read_rev');
