ALTER TABLE "bans" ADD COLUMN "shadow" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "channel_events" ADD COLUMN "shadow_of" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "shadowed" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "shadow_banned" boolean DEFAULT false NOT NULL;