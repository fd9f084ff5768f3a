CREATE TABLE "signin_lockouts" (
	"email" text PRIMARY KEY NOT NULL,
	"failed_signins" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "signin_lockouts_updated_idx" ON "signin_lockouts" USING btree ("updated_at");