CREATE TABLE "custom_emoji" (
	"app_id" uuid NOT NULL,
	"shortcode" text NOT NULL,
	"aliases" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"image_id" uuid NOT NULL,
	"storage_key" text NOT NULL,
	"content_type" text NOT NULL,
	"animated" boolean DEFAULT false NOT NULL,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "custom_emoji_app_id_shortcode_pk" PRIMARY KEY("app_id","shortcode")
);
--> statement-breakpoint
CREATE TABLE "emoji_names" (
	"app_id" uuid NOT NULL,
	"name" text NOT NULL,
	"shortcode" text NOT NULL,
	CONSTRAINT "emoji_names_app_id_name_pk" PRIMARY KEY("app_id","name")
);
--> statement-breakpoint
CREATE TABLE "emoji_settings" (
	"app_id" uuid PRIMARY KEY NOT NULL,
	"who_can_manage" text DEFAULT 'admins' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "poll_votes" (
	"app_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"option_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "poll_votes_app_id_message_id_user_id_option_id_pk" PRIMARY KEY("app_id","message_id","user_id","option_id")
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "poll" jsonb;--> statement-breakpoint
CREATE UNIQUE INDEX "custom_emoji_image_uq" ON "custom_emoji" USING btree ("image_id");