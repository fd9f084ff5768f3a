CREATE TABLE "inbox_items" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"kind" text NOT NULL,
	"via" text,
	"group_handle" text,
	"cid" text,
	"message_id" uuid,
	"parent_id" uuid,
	"actor_id" text,
	"reaction_type" text,
	"dedupe" text NOT NULL,
	"read_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_items_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
CREATE TABLE "user_group_members" (
	"app_id" uuid NOT NULL,
	"group_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_group_members_app_id_group_id_user_id_pk" PRIMARY KEY("app_id","group_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "user_group_settings" (
	"app_id" uuid PRIMARY KEY NOT NULL,
	"managers" text DEFAULT 'admins' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "user_groups" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"handle" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_groups_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "inbox_items_dedupe_uq" ON "inbox_items" USING btree ("app_id","user_id","dedupe");--> statement-breakpoint
CREATE INDEX "inbox_items_user_idx" ON "inbox_items" USING btree ("app_id","user_id","id");--> statement-breakpoint
CREATE INDEX "inbox_items_unread_idx" ON "inbox_items" USING btree ("app_id","user_id") WHERE read_at is null;--> statement-breakpoint
CREATE INDEX "inbox_items_created_idx" ON "inbox_items" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "user_group_members_user_idx" ON "user_group_members" USING btree ("app_id","user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "user_groups_handle_uq" ON "user_groups" USING btree ("app_id",lower("handle"));