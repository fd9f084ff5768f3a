CREATE TABLE "channel_note_subscriptions" (
	"app_id" uuid NOT NULL,
	"cid" text NOT NULL,
	"user_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "channel_note_subscriptions_app_id_cid_user_id_pk" PRIMARY KEY("app_id","cid","user_id")
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"cid" text NOT NULL,
	"assignee_id" text NOT NULL,
	"created_by" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"due_at" timestamp with time zone,
	"reminder_id" uuid,
	"completed_at" timestamp with time zone,
	"completed_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tasks_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
ALTER TABLE "saved_items" ADD COLUMN "note" text;--> statement-breakpoint
CREATE INDEX "channel_note_subscriptions_user_idx" ON "channel_note_subscriptions" USING btree ("app_id","user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "tasks_message_uq" ON "tasks" USING btree ("app_id","message_id");--> statement-breakpoint
CREATE INDEX "tasks_assignee_idx" ON "tasks" USING btree ("app_id","assignee_id","status","id");--> statement-breakpoint
CREATE INDEX "tasks_cid_idx" ON "tasks" USING btree ("app_id","cid","status","id");