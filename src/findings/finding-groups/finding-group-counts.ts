/**
 * The figures of a finding group, as SQL over findings (alias `f`) grouped
 * by check: one definition for the per-scan summaries the overview job
 * writes and for the same figures computed per request from the findings a
 * caller may see. Meanings follow Prowler's finding groups: counts without
 * `_muted` leave muted findings out, `muted_count` counts every muted one,
 * `new_count`/`changed_count` count unmuted findings by delta.
 */
const STATUSES = { pass: 'PASS', fail: 'FAIL', manual: 'MANUAL' } as const;

/** Every count column of finding_group_summaries with the findings it counts. */
export const GROUP_COUNT_COLUMNS: ReadonlyArray<[column: string, condition: string]> = [
  ...Object.entries(STATUSES).flatMap(([name, status]): Array<[string, string]> => [
    [`${name}_count`, `f.status = '${status}' AND NOT f.muted`],
    [`${name}_muted_count`, `f.status = '${status}' AND f.muted`],
  ]),
  ['muted_count', 'f.muted'],
  ['new_count', `f.delta = 'new' AND NOT f.muted`],
  ['changed_count', `f.delta = 'changed' AND NOT f.muted`],
  ...(['new', 'changed'] as const).flatMap((delta) =>
    Object.entries(STATUSES).flatMap(([name, status]): Array<[string, string]> => [
      [`${delta}_${name}_count`, `f.delta = '${delta}' AND f.status = '${status}' AND NOT f.muted`],
      [`${delta}_${name}_muted_count`, `f.delta = '${delta}' AND f.status = '${status}' AND f.muted`],
    ]),
  ),
];

/** 5 for critical … 1 for informational: the group's severity is the highest of its findings. */
export const SEVERITY_ORDER_SQL = `CASE f.severity WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3 WHEN 'low' THEN 2 ELSE 1 END`;
export const SEVERITY_OF_ORDER_SQL = (order: string) =>
  `CASE ${order} WHEN 5 THEN 'critical' WHEN 4 THEN 'high' WHEN 3 THEN 'medium' WHEN 2 THEN 'low' ELSE 'informational' END`;

const FAILING = `f.status = 'FAIL' AND NOT f.muted`;

/**
 * Per check (and the `keys` columns before it, e.g. the scan), the group's
 * columns over the findings `selected` names (a table or CTE with findings'
 * columns, alias f). Resource counts come from a second grouping over the
 * findings' resource links, so a finding linked to two resources is
 * counted once among findings and each resource once among resources.
 */
export function findingGroupRowsSql(selected: string, keys: readonly string[]): string {
  const key = [...keys.map((k) => `f.${k}`), 'f.check_id'].join(', ');
  const join = [...keys, 'check_id'].map((k) => `c.${k} = r.${k}`).join(' AND ');
  return `
    WITH counts AS (
      SELECT ${key}, max(f.check_title) AS check_title, max(${SEVERITY_ORDER_SQL})::smallint AS severity_order,
             ${GROUP_COUNT_COLUMNS.map(([column, condition]) => `count(*) FILTER (WHERE ${condition})::int AS ${column}`).join(',\n             ')},
             bool_and(f.muted) AS muted, min(f.first_seen_at) AS first_seen_at, max(f.inserted_at) AS last_seen_at,
             min(f.first_seen_at) FILTER (WHERE ${FAILING}) AS failing_since
        FROM ${selected} f GROUP BY ${key}
    ), resource_counts AS (
      SELECT ${key}, count(DISTINCT l.resource_id)::int AS resources_total,
             count(DISTINCT l.resource_id) FILTER (WHERE ${FAILING})::int AS resources_fail
        FROM ${selected} f JOIN resource_finding_links l ON l.tenant_id = f.tenant_id AND l.finding_id = f.id
       GROUP BY ${key}
    )
    SELECT c.*, COALESCE(r.resources_total, 0) AS resources_total, COALESCE(r.resources_fail, 0) AS resources_fail
      FROM counts c LEFT JOIN resource_counts r ON ${join}`;
}

/** Columns of finding_group_summaries that findingGroupRowsSql answers, in insert order. */
export const GROUP_SUMMARY_COLUMNS = [
  'check_title', 'severity_order', ...GROUP_COUNT_COLUMNS.map(([c]) => c), 'muted', 'first_seen_at', 'last_seen_at', 'failing_since',
  'resources_total', 'resources_fail',
];
