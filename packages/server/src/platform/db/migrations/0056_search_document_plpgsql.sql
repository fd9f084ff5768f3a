-- The search document's function in PL/pgSQL, with the same body and result. As SQL it could
-- not be inlined (its subquery), so PostgreSQL planned its body again in every statement that
-- called it: each send batch with an identifier in a message's text (a URL, an address,
-- `snake_case`) paid about 30 µs for it; PL/pgSQL keeps the plan for the session (about 8 µs a
-- call, pgbench, issue 57).
CREATE OR REPLACE FUNCTION parley_search_document(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  RETURN translate(t, '<>', '  ') || coalesce(' ' || (
    SELECT string_agg(regexp_replace(m[1], '[^[:alnum:]]+', ' ', 'g'), ' ')
    FROM regexp_matches(t, '([[:alnum:]]+(?:[_.@/:+-]+[[:alnum:]]+)+)', 'g') AS m
  ), '');
END
$$;
