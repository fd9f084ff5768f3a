CREATE TABLE "schema_history" (
	"migration_at" bigint PRIMARY KEY NOT NULL,
	"tag" text NOT NULL,
	"version" text,
	"compatible_from" text,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "server_nodes" (
	"id" text PRIMARY KEY NOT NULL,
	"version" text NOT NULL,
	"schema" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"seen_at" timestamp with time zone NOT NULL
);
