CREATE TABLE "channel_notification_settings" (
	"app_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"cid" text NOT NULL,
	"level" text NOT NULL,
	CONSTRAINT "channel_notification_settings_app_id_user_id_cid_pk" PRIMARY KEY("app_id","user_id","cid")
);
--> statement-breakpoint
CREATE TABLE "install_keys" (
	"name" text PRIMARY KEY NOT NULL,
	"value_sealed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notification_settings" (
	"app_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"level" text DEFAULT 'mentions' NOT NULL,
	"time_zone" text DEFAULT 'UTC' NOT NULL,
	"dnd_until" timestamp with time zone,
	"dnd_schedule" jsonb,
	"email_digest" boolean DEFAULT true NOT NULL,
	"last_digest_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notification_settings_app_id_user_id_pk" PRIMARY KEY("app_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "push_bursts" (
	"app_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"collapse_key" text NOT NULL,
	"sent_at" timestamp with time zone NOT NULL,
	CONSTRAINT "push_bursts_app_id_user_id_collapse_key_pk" PRIMARY KEY("app_id","user_id","collapse_key")
);
--> statement-breakpoint
CREATE TABLE "push_devices" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"provider" text NOT NULL,
	"token" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "push_devices_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
CREATE TABLE "push_providers" (
	"app_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"config_sealed" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "push_providers_app_id_provider_pk" PRIMARY KEY("app_id","provider")
);
--> statement-breakpoint
CREATE TABLE "push_subscriptions" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"endpoint" text NOT NULL,
	"p256dh" text NOT NULL,
	"auth" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "push_subscriptions_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
ALTER TABLE "push_providers" ADD CONSTRAINT "push_providers_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "push_devices_token_uq" ON "push_devices" USING btree ("app_id","provider","token");--> statement-breakpoint
CREATE INDEX "push_devices_user_idx" ON "push_devices" USING btree ("app_id","user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "push_subscriptions_endpoint_uq" ON "push_subscriptions" USING btree ("app_id","endpoint");--> statement-breakpoint
CREATE INDEX "push_subscriptions_user_idx" ON "push_subscriptions" USING btree ("app_id","user_id");