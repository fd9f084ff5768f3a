-- The search trigger (0004) looks up its message's app for the text search configuration. The
-- send path's connections set `plan_cache_mode = force_custom_plan` for their named statements
-- (platform/db/index.ts), and that setting reaches the SPI plans of PL/pgSQL too: the trigger's
-- lookup was planned afresh for every message written on them. The function keeps the default
-- for its own statements: the lookup is planned once per connection and reused.
ALTER FUNCTION parley_message_search_tsv() SET plan_cache_mode = auto;
