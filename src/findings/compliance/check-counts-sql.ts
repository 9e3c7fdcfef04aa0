/**
 * Per check and region, the counts compliance from framework definitions is
 * computed from. Shared by the `scan-compliance` job (which keeps them per
 * scan), the reports (which read them from the scan's findings directly) and
 * the reads of a caller with row filter rules. Findings are aliased `f`.
 */
export const CHECK_COUNTS_SQL = `
  count(*) FILTER (WHERE f.status = 'PASS' AND NOT f.muted)::int AS pass,
  count(*) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted)::int AS fail,
  count(*) FILTER (WHERE f.muted)::int AS muted,
  count(*)::int AS total`;
