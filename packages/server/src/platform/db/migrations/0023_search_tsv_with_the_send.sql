-- The send batch (features/messages/send-batch.ts) writes each message's search vector itself,
-- with its app's text search configuration looked up once per app and batch, so its inserts no
-- longer run the trigger's PL/pgSQL and lookup per row (about 18 µs of PostgreSQL CPU per send,
-- docs/benchmarks.md). An insert that leaves the vector out, or whose message is not a live
-- regular one, still gets it from the trigger; edits and deletes still go through it.
-- The lookup is a function of its own, as the trigger's is, so its plan is cached per connection
-- with the default plan cache mode (migration 0021).
CREATE FUNCTION parley_search_config(app uuid) RETURNS regconfig LANGUAGE plpgsql STABLE
  SET plan_cache_mode = auto AS $$
DECLARE
  cfg regconfig;
BEGIN
  SELECT a.search_language::regconfig INTO cfg FROM apps a WHERE a.id = app;
  RETURN coalesce(cfg, 'english'::regconfig);
END
$$;--> statement-breakpoint
DROP TRIGGER "messages_search_tsv" ON "messages";--> statement-breakpoint
CREATE TRIGGER "messages_search_tsv" BEFORE UPDATE OF "text", "deleted_at", "type" ON "messages"
  FOR EACH ROW EXECUTE FUNCTION parley_message_search_tsv();--> statement-breakpoint
CREATE TRIGGER "messages_search_tsv_insert" BEFORE INSERT ON "messages"
  FOR EACH ROW WHEN (NEW."search_tsv" IS NULL OR NEW."type" <> 'regular' OR NEW."deleted_at" IS NOT NULL)
  EXECUTE FUNCTION parley_message_search_tsv();
