CREATE TABLE "call_participants" (
	"app_id" uuid NOT NULL,
	"call_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"state" text NOT NULL,
	"invited" boolean NOT NULL,
	"connection_id" text,
	"invited_at" timestamp with time zone NOT NULL,
	"joined_at" timestamp with time zone,
	"left_at" timestamp with time zone,
	CONSTRAINT "call_participants_app_id_call_id_user_id_pk" PRIMARY KEY("app_id","call_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "calls" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"cid" text NOT NULL,
	"created_by" text NOT NULL,
	"kind" text NOT NULL,
	"state" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	CONSTRAINT "calls_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
CREATE TABLE "invitations" (
	"app_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"kind" text NOT NULL,
	"subject_id" text NOT NULL,
	"from_user_id" text NOT NULL,
	"to_user_id" text NOT NULL,
	"state" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"answered_at" timestamp with time zone,
	"answered_by" text,
	CONSTRAINT "invitations_app_id_id_pk" PRIMARY KEY("app_id","id")
);
--> statement-breakpoint
CREATE INDEX "call_participants_user" ON "call_participants" USING btree ("app_id","user_id","call_id");--> statement-breakpoint
CREATE INDEX "call_participants_joined" ON "call_participants" USING btree ("app_id","user_id") WHERE state = 'joined';--> statement-breakpoint
CREATE INDEX "calls_channel" ON "calls" USING btree ("app_id","cid","id");--> statement-breakpoint
CREATE UNIQUE INDEX "calls_one_live_per_channel" ON "calls" USING btree ("app_id","cid") WHERE state in ('ringing', 'active');--> statement-breakpoint
CREATE UNIQUE INDEX "invitations_subject" ON "invitations" USING btree ("app_id","kind","subject_id","to_user_id");--> statement-breakpoint
CREATE INDEX "invitations_pending_due" ON "invitations" USING btree ("expires_at") WHERE state = 'pending';