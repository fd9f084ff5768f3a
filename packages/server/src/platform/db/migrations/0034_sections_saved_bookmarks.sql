CREATE TABLE "channel_bookmarks" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"cid" text NOT NULL,
	"kind" text NOT NULL,
	"url" text,
	"file_id" uuid,
	"title" text NOT NULL,
	"title_set" boolean DEFAULT false NOT NULL,
	"site_name" text,
	"icon_url" text,
	"position" integer NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "channel_bookmarks_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
CREATE TABLE "saved_items" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"message_id" uuid NOT NULL,
	"cid" text NOT NULL,
	"status" text DEFAULT 'saved' NOT NULL,
	"reminder_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "saved_items_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
CREATE TABLE "sidebar_placements" (
	"app_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"cid" text NOT NULL,
	"section_id" uuid NOT NULL,
	"position" integer NOT NULL,
	CONSTRAINT "sidebar_placements_app_id_user_id_cid_pk" PRIMARY KEY("app_id","user_id","cid")
);
--> statement-breakpoint
CREATE TABLE "sidebar_sections" (
	"app_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"id" uuid NOT NULL,
	"kind" text DEFAULT 'custom' NOT NULL,
	"name" text NOT NULL,
	"position" integer NOT NULL,
	"collapsed" boolean DEFAULT false NOT NULL,
	"sort" text DEFAULT 'manual' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sidebar_sections_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
ALTER TABLE "reminders" ADD COLUMN "repeat" text;--> statement-breakpoint
ALTER TABLE "reminders" ADD COLUMN "tz_offset" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "reminders" ADD COLUMN "dm_id" uuid;--> statement-breakpoint
CREATE INDEX "channel_bookmarks_cid_idx" ON "channel_bookmarks" USING btree ("app_id","cid","position");--> statement-breakpoint
CREATE UNIQUE INDEX "saved_items_message" ON "saved_items" USING btree ("app_id","user_id","message_id");--> statement-breakpoint
CREATE INDEX "saved_items_list_idx" ON "saved_items" USING btree ("app_id","user_id","status","id");--> statement-breakpoint
CREATE INDEX "sidebar_placements_section_idx" ON "sidebar_placements" USING btree ("app_id","section_id","position");--> statement-breakpoint
CREATE INDEX "sidebar_sections_user_idx" ON "sidebar_sections" USING btree ("app_id","user_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "sidebar_sections_starred" ON "sidebar_sections" USING btree ("app_id","user_id") WHERE kind = 'starred';