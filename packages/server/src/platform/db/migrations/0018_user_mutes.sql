CREATE TABLE "user_mutes" (
	"app_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"muted_user_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_mutes_app_id_user_id_muted_user_id_pk" PRIMARY KEY("app_id","user_id","muted_user_id")
);
