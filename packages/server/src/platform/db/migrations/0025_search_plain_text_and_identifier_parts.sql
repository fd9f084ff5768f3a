-- What a message's search vector is made of (features/search, docs/protocol.md "Search"):
--
-- * Chat text is plain text. PostgreSQL's text-search parser reads `<…>` as HTML tags and drops
--   them with what a `<script>` pair holds, so `<script>alert(1)</script>` indexed nothing a
--   person could find. `<` and `>` become blanks before the parser sees the text.
-- * Identifier parts are findable, by one rule for every identifier: a run of letters and
--   digits joined by `_ . @ / : + -` (`foo_bar.baz`, `ann.lee@example.com`,
--   `https://example.com/api/v2/users`) is indexed whole as before and, after the text, as its
--   parts in order (`foo bar baz`). The query side (features/search/query.ts) turns such a term
--   into the phrase of its parts, so `foo_bar`, `ann.lee`, `example.com/api` and the URL typed
--   with its scheme find the message, and `get_user` still finds `get_user_by_id`.
--
-- One function makes the document for the send batch, the trigger and a change of language,
-- so they cannot drift; IMMUTABLE, as it depends on nothing but its argument.
CREATE FUNCTION parley_search_document(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT translate(t, '<>', '  ') || coalesce(' ' || (
    SELECT string_agg(regexp_replace(m[1], '[^[:alnum:]]+', ' ', 'g'), ' ')
    FROM regexp_matches(t, '([[:alnum:]]+(?:[_.@/:+-]+[[:alnum:]]+)+)', 'g') AS m
  ), '')
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION parley_message_search_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
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
  NEW.search_tsv := to_tsvector(coalesce(cfg, 'english'::regconfig), parley_search_document(NEW.text));
  RETURN NEW;
END
$$;--> statement-breakpoint
ALTER FUNCTION parley_message_search_tsv() SET plan_cache_mode = auto;--> statement-breakpoint
UPDATE messages m SET search_tsv = to_tsvector(coalesce(a.search_language, 'english')::regconfig, parley_search_document(m.text))
  FROM apps a WHERE a.id = m.app_id AND m.deleted_at IS NULL AND m.type = 'regular';
