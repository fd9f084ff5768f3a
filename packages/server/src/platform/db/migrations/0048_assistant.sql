CREATE TABLE "assistant_settings" (
	"app_id" uuid PRIMARY KEY NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"url" text NOT NULL,
	"model" text NOT NULL,
	"key_sealed" text,
	"timeout_ms" integer DEFAULT 30000 NOT NULL,
	"catch_up" boolean DEFAULT true NOT NULL,
	"smart_replies" boolean DEFAULT true NOT NULL,
	"moderation" boolean DEFAULT false NOT NULL,
	"moderation_timeout_ms" integer DEFAULT 2000 NOT NULL,
	"moderation_fail_open" boolean DEFAULT true NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "assistant_usage" (
	"app_id" uuid NOT NULL,
	"day" text NOT NULL,
	"feature" text NOT NULL,
	"requests" integer DEFAULT 0 NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "assistant_usage_app_id_day_feature_pk" PRIMARY KEY("app_id","day","feature")
);
--> statement-breakpoint
ALTER TABLE "assistant_settings" ADD CONSTRAINT "assistant_settings_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assistant_usage" ADD CONSTRAINT "assistant_usage_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;