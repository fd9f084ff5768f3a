ALTER TABLE "usage_samples" ADD COLUMN "connected_ms" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_samples" ADD COLUMN "reconnects" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_samples" ADD COLUMN "resyncs" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_samples" ADD COLUMN "resync_ms" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_samples" ADD COLUMN "resync_max_ms" integer DEFAULT 0 NOT NULL;