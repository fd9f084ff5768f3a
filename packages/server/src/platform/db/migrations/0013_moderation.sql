CREATE TABLE "bans" (
	"app_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"cid" text DEFAULT '' NOT NULL,
	"reason" text,
	"banned_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	CONSTRAINT "bans_app_id_user_id_cid_pk" PRIMARY KEY("app_id","user_id","cid")
);
--> statement-breakpoint
CREATE TABLE "moderation_flags" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"message_id" uuid,
	"cid" text,
	"user_id" text NOT NULL,
	"reported_by" text,
	"reason" text NOT NULL,
	"text" text,
	"status" text DEFAULT 'open' NOT NULL,
	"reviewed_by" text,
	"reviewed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "moderation_flags_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
ALTER TABLE "apps" ADD COLUMN "permissions" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "apps" ADD COLUMN "automod" jsonb;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "frozen" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "slow_mode_s" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "reactions" text DEFAULT 'members' NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "banned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "ban_expires_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "bans_cid_idx" ON "bans" USING btree ("app_id","cid");--> statement-breakpoint
CREATE INDEX "moderation_flags_status_idx" ON "moderation_flags" USING btree ("app_id","status","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "moderation_flags_once_uq" ON "moderation_flags" USING btree ("app_id","reported_by","message_id","user_id") WHERE status = 'open';