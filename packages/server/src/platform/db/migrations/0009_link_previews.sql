CREATE TABLE "link_previews" (
	"app_id" uuid NOT NULL,
	"url_hash" text NOT NULL,
	"url" text NOT NULL,
	"status" text NOT NULL,
	"final_url" text,
	"title" text,
	"description" text,
	"site_name" text,
	"kind" text,
	"image" jsonb,
	"error" text,
	"fetched_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "link_previews_app_id_url_hash_pk" PRIMARY KEY("app_id","url_hash")
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "previews" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "hidden_previews" jsonb DEFAULT '[]'::jsonb NOT NULL;