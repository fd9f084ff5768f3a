CREATE TABLE "apps" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"api_key" text NOT NULL,
	"api_secret_sealed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"disabled_at" timestamp with time zone,
	CONSTRAINT "apps_api_key_unique" UNIQUE("api_key")
);
--> statement-breakpoint
CREATE TABLE "channel_events" (
	"app_id" uuid NOT NULL,
	"cid" text NOT NULL,
	"seq" bigint NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "channel_events_app_id_cid_seq_pk" PRIMARY KEY("app_id","cid","seq")
);
--> statement-breakpoint
CREATE TABLE "channels" (
	"app_id" uuid NOT NULL,
	"cid" text NOT NULL,
	"type" text NOT NULL,
	"id" text NOT NULL,
	"name" text,
	"description" text,
	"topic" text,
	"image" text,
	"created_by" text,
	"archived_at" timestamp with time zone,
	"last_seq" bigint DEFAULT 0 NOT NULL,
	"last_message_at" timestamp with time zone,
	"member_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "channels_app_id_cid_pk" PRIMARY KEY("app_id","cid")
);
--> statement-breakpoint
CREATE TABLE "members" (
	"app_id" uuid NOT NULL,
	"cid" text NOT NULL,
	"user_id" text NOT NULL,
	"role" text DEFAULT 'member' NOT NULL,
	"last_read_seq" bigint DEFAULT 0 NOT NULL,
	"muted" boolean DEFAULT false NOT NULL,
	"joined_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "members_app_id_cid_user_id_pk" PRIMARY KEY("app_id","cid","user_id")
);
--> statement-breakpoint
CREATE TABLE "message_versions" (
	"app_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"text" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "message_versions_app_id_message_id_version_pk" PRIMARY KEY("app_id","message_id","version")
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"cid" text NOT NULL,
	"seq" bigint NOT NULL,
	"user_id" text NOT NULL,
	"type" text DEFAULT 'regular' NOT NULL,
	"text" text NOT NULL,
	"parent_id" uuid,
	"show_in_channel" boolean DEFAULT false NOT NULL,
	"reply_count" integer DEFAULT 0 NOT NULL,
	"last_reply_at" timestamp with time zone,
	"thread_participants" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"quoted_message_id" uuid,
	"reaction_counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"latest_reactions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"mentioned_users" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"mentioned_here" boolean DEFAULT false NOT NULL,
	"mentioned_channel" boolean DEFAULT false NOT NULL,
	"pinned_at" timestamp with time zone,
	"pinned_by" text,
	"edited_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "messages_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
CREATE TABLE "reactions" (
	"app_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"type" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reactions_app_id_message_id_user_id_type_pk" PRIMARY KEY("app_id","message_id","user_id","type")
);
--> statement-breakpoint
CREATE TABLE "user_message_flags" (
	"app_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"message_id" uuid NOT NULL,
	"cid" text NOT NULL,
	"seq" bigint NOT NULL,
	"mentioned" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_message_flags_app_id_user_id_message_id_pk" PRIMARY KEY("app_id","user_id","message_id")
);
--> statement-breakpoint
CREATE TABLE "users" (
	"app_id" uuid NOT NULL,
	"id" text NOT NULL,
	"name" text NOT NULL,
	"username" text,
	"image" text,
	"role" text DEFAULT 'user' NOT NULL,
	"status_text" text,
	"status_emoji" text,
	"status_expires_at" timestamp with time zone,
	"last_active_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
ALTER TABLE "channels" ADD CONSTRAINT "channels_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "channels_type_idx" ON "channels" USING btree ("app_id","type");--> statement-breakpoint
CREATE INDEX "channels_name_idx" ON "channels" USING btree ("app_id",lower("name") text_pattern_ops);--> statement-breakpoint
CREATE INDEX "members_user_idx" ON "members" USING btree ("app_id","user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_seq_uq" ON "messages" USING btree ("app_id","cid","seq");--> statement-breakpoint
CREATE INDEX "messages_parent_idx" ON "messages" USING btree ("app_id","parent_id","seq");--> statement-breakpoint
CREATE INDEX "messages_pinned_idx" ON "messages" USING btree ("app_id","cid","pinned_at");--> statement-breakpoint
CREATE INDEX "reactions_latest_idx" ON "reactions" USING btree ("app_id","message_id","created_at");--> statement-breakpoint
CREATE INDEX "flags_user_cid_idx" ON "user_message_flags" USING btree ("app_id","user_id","cid","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "users_username_uq" ON "users" USING btree ("app_id",lower("username"));--> statement-breakpoint
CREATE INDEX "users_name_idx" ON "users" USING btree ("app_id",lower("name") text_pattern_ops);--> statement-breakpoint
CREATE INDEX "users_username_prefix_idx" ON "users" USING btree ("app_id",lower("username") text_pattern_ops);