CREATE TABLE "note_versions" (
	"app_id" uuid NOT NULL,
	"note_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"title" text NOT NULL,
	"text" text NOT NULL,
	"user_id" text NOT NULL,
	"merged" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "note_versions_app_id_note_id_version_pk" PRIMARY KEY("app_id","note_id","version")
);
--> statement-breakpoint
CREATE TABLE "notes" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"owner_id" text,
	"cid" text,
	"title" text NOT NULL,
	"text" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" text NOT NULL,
	"updated_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "notes_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
CREATE INDEX "notes_owner_idx" ON "notes" USING btree ("app_id","owner_id","updated_at");--> statement-breakpoint
CREATE INDEX "notes_cid_idx" ON "notes" USING btree ("app_id","cid","updated_at");