ALTER TABLE "apps" ADD COLUMN "search_language" text DEFAULT 'english' NOT NULL;--> statement-breakpoint
-- Message search (features/search). Kept by a trigger, so the index is current in the same
-- transaction as every insert, edit and delete, whoever writes the row.
ALTER TABLE "messages" ADD COLUMN "search_tsv" tsvector;--> statement-breakpoint
CREATE FUNCTION parley_message_search_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  cfg regconfig;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.text IS NOT DISTINCT FROM OLD.text
     AND NEW.deleted_at IS NOT DISTINCT FROM OLD.deleted_at THEN
    RETURN NEW;
  END IF;
  IF NEW.deleted_at IS NOT NULL OR NEW.type <> 'regular' THEN
    NEW.search_tsv := NULL;
    RETURN NEW;
  END IF;
  SELECT a.search_language::regconfig INTO cfg FROM apps a WHERE a.id = NEW.app_id;
  NEW.search_tsv := to_tsvector(coalesce(cfg, 'english'::regconfig), NEW.text);
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER messages_search_tsv BEFORE INSERT OR UPDATE OF text, deleted_at, type ON messages
  FOR EACH ROW EXECUTE FUNCTION parley_message_search_tsv();--> statement-breakpoint
UPDATE messages SET search_tsv = to_tsvector('english', text)
  WHERE deleted_at IS NULL AND type = 'regular';--> statement-breakpoint
-- fastupdate off: each insert updates the index itself, instead of an unlucky send flushing
-- megabytes of pending entries (a 100 ms+ stall in the send tail).
CREATE INDEX messages_search_idx ON messages USING gin (search_tsv) WITH (fastupdate = off);--> statement-breakpoint
CREATE INDEX messages_created_idx ON messages (app_id, created_at);--> statement-breakpoint
CREATE INDEX messages_user_idx ON messages (app_id, user_id, created_at);
