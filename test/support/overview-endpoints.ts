/** The UI's finding groups page request, and the findings page with the same filters (their sorts differ: each takes its own keys). */
export const GROUPS_PAGE = 'finding-groups/latest?page[size]=10&sort=-status,-severity,-new_fail_count,-changed_fail_count,-fail_count,-last_seen_at&filter[muted]=false';
export const FINDINGS_LATEST_PAGE = 'findings/latest?page[size]=10&sort=-severity,-status&filter[muted]=false';

/**
 * Every /overviews/* endpoint the API serves, name → path under /api/v1.
 * The timeseries alone takes a date window, as Prowler's does: from
 * `timeseriesFrom` (YYYY-MM-DD) to today.
 */
export function overviewEndpoints(timeseriesFrom: string): Record<string, string> {
  return {
    providers: 'overviews/providers',
    'providers/count': 'overviews/providers/count',
    findings: 'overviews/findings',
    findings_severity: 'overviews/findings_severity',
    services: 'overviews/services',
    regions: 'overviews/regions',
    'attack-surfaces': 'overviews/attack-surfaces',
    categories: 'overviews/categories',
    'resource-groups': 'overviews/resource-groups',
    'compliance-watchlist': 'overviews/compliance-watchlist',
    'findings_severity/timeseries': `overviews/findings_severity/timeseries?filter[date_from]=${timeseriesFrom}`,
  };
}
