CREATE TABLE "ephemeral_messages" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"cid" text NOT NULL,
	"parent_id" uuid,
	"command" text NOT NULL,
	"command_id" uuid,
	"body" jsonb NOT NULL,
	"state" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ephemeral_messages_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
CREATE TABLE "gif_providers" (
	"app_id" uuid PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"key_sealed" text NOT NULL,
	"base_url" text NOT NULL,
	"rating" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "slash_commands" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text NOT NULL,
	"usage" text DEFAULT '' NOT NULL,
	"url" text NOT NULL,
	"roles" jsonb,
	"secret_sealed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "slash_commands_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
ALTER TABLE "ephemeral_messages" ADD CONSTRAINT "ephemeral_messages_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gif_providers" ADD CONSTRAINT "gif_providers_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "slash_commands" ADD CONSTRAINT "slash_commands_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ephemeral_messages_expires_idx" ON "ephemeral_messages" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "slash_commands_name_uq" ON "slash_commands" USING btree ("app_id","name");