CREATE TABLE "inbox_tasks" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"task" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_tasks_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
CREATE INDEX "inbox_tasks_created_idx" ON "inbox_tasks" USING btree ("created_at");