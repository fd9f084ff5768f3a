CREATE TABLE "space_occupants" (
	"app_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"space_id" uuid NOT NULL,
	"entered_at" timestamp with time zone NOT NULL,
	CONSTRAINT "space_occupants_app_id_user_id_pk" PRIMARY KEY("app_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "spaces" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"capacity" integer,
	"position" integer NOT NULL,
	"status" text DEFAULT 'free' NOT NULL,
	"cid" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "spaces_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
ALTER TABLE "spaces" ADD CONSTRAINT "spaces_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "space_occupants_space" ON "space_occupants" USING btree ("app_id","space_id");--> statement-breakpoint
CREATE INDEX "spaces_order" ON "spaces" USING btree ("app_id","position");