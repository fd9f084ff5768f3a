CREATE TABLE "last_channels" (
	"app_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"cid" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "last_channels_app_id_user_id_pk" PRIMARY KEY("app_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "members" ADD COLUMN "last_read_at" timestamp with time zone;