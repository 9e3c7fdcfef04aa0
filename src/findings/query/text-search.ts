/**
 * Prowler's `filter[search]`: SearchQuery(value, config="simple",
 * search_type="plain"), every word of the value in the text.
 *
 * The match itself parses each row's text (`to_tsvector`, about 6-10 µs a
 * row), so it is guarded by a test PostgreSQL runs first because it is
 * cheaper (its planner orders conditions by cost): the text contains each of
 * the query's words, case aside (`ILIKE ALL`, under 1 µs a row). The guard
 * never drops a row the match keeps: the 'simple' configuration's lexemes are
 * pieces of the text, lower-cased with the same locale ILIKE lower-cases
 * with, and the query's words are its own lexemes, so a matching text holds
 * each of them. Most rows fail the guard, and only the rest are parsed.
 * (An index cannot take this work: `@@` is not leakproof, so under row-level
 * security PostgreSQL applies the tenant policy first and never uses one.)
 *
 * `text` is a SQL expression of the row's text; `query` the placeholder of
 * the searched value.
 */
export function textSearchSql(text: string, query: string): string {
  return `(${text} ILIKE ALL(${wordPatternsSql(query)}) AND to_tsvector('simple', ${text}) @@ plainto_tsquery('simple', ${query}))`;
}

/**
 * The words (lexemes) of a text as the search's configuration finds them, as
 * a text array: a query's own words are those of its text.
 */
export function lexemesSql(text: string): string {
  return `tsvector_to_array(to_tsvector('simple', ${text}))`;
}

/** `%word%` for each lexeme of the query, LIKE's own characters escaped; computed once per statement. */
function wordPatternsSql(query: string): string {
  return `ARRAY(SELECT '%' || replace(replace(replace(w, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'
                  FROM unnest(${lexemesSql(query)}) w)`;
}
