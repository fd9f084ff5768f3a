CREATE TABLE "files" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"cid" text NOT NULL,
	"user_id" text NOT NULL,
	"name" text NOT NULL,
	"size" bigint NOT NULL,
	"mime_type" text NOT NULL,
	"declared_type" text,
	"type_mismatch" boolean DEFAULT false NOT NULL,
	"kind" text NOT NULL,
	"storage_key" text NOT NULL,
	"sha256" text NOT NULL,
	"width" integer,
	"height" integer,
	"blurhash" text,
	"duration_ms" integer,
	"thumbs" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"processing" text DEFAULT 'none' NOT NULL,
	"message_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attached_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "files_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "attachments" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
CREATE INDEX "files_user_idx" ON "files" USING btree ("app_id","user_id");--> statement-breakpoint
CREATE INDEX "files_message_idx" ON "files" USING btree ("app_id","message_id");