CREATE TABLE "inbox_pending" (
	"app_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_pending_app_id_message_id_pk" PRIMARY KEY("app_id","message_id")
);
