/**
 * SQL shared by the compliance aggregation and the reads that must compute
 * the same figures from findings (a caller with row filter rules): one row per
 * finding, framework and requirement, from the finding's compliance mapping
 * (`unmapped.compliance` of its OCSF record: framework -> requirement ids).
 * The findings table must be aliased `f`.
 */
export const FINDING_REQUIREMENTS_JOIN = `
  CROSS JOIN LATERAL jsonb_each(f.compliance) AS framework
  CROSS JOIN LATERAL jsonb_array_elements_text(CASE jsonb_typeof(framework.value) WHEN 'array' THEN framework.value ELSE '[]' END) AS requirement(id)`;

/** The summary table's columns are 200 characters wide; Prowler's requirement ids can be whole sentences. */
export const FRAMEWORK_KEY_SQL = 'left(framework.key, 200)';
export const REQUIREMENT_ID_SQL = 'left(requirement.id, 200)';

/** pass, fail and manual leave muted findings out; muted counts them; total counts all. */
export const REQUIREMENT_COUNTS_SQL = `
  count(*) FILTER (WHERE f.status = 'PASS' AND NOT f.muted) AS pass,
  count(*) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted) AS fail,
  count(*) FILTER (WHERE f.status = 'MANUAL' AND NOT f.muted) AS manual,
  count(*) FILTER (WHERE f.muted) AS muted,
  count(*) AS total`;
