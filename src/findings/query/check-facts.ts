import type { EntityManager } from 'typeorm';
import { ParsedFilter } from '../../common/jsonapi/query-spec';
import { rows } from '../../database/sql';
import { SqlConditions } from './sql-conditions';

/**
 * Filters on facts of a check rather than of a finding: its categories and
 * its resource group, kept once per check in check_metadata. Any table with
 * a check_id column (findings, scan_summaries) answers them.
 */
export const CHECK_FACT_FILTERS: ReadonlySet<string> = new Set(['category', 'resource_groups', 'resource_group']);

/** Adds the condition of a check-fact filter on `<alias>.check_id`. Categories are stored lower case, and compared so. */
export function addCheckFactFilter(conditions: SqlConditions, alias: string, filter: ParsedFilter): void {
  const values = (filter.operator === 'in' ? filter.value : [filter.value]) as string[];
  const test =
    filter.field === 'category'
      ? `m.categories && ${conditions.param(values.map((v) => v.toLowerCase()))}::text[]`
      : `m.resource_group = ANY(${conditions.param(values)}::text[])`;
  conditions.add(`${alias}.check_id IN (SELECT m.check_id FROM check_metadata m WHERE ${test})`);
}

export interface CheckFactValues {
  categories: string[];
  groups: string[];
}

/** The categories and resource groups of the given checks, each sorted, for the filter pickers. */
export async function checkFactValues(manager: EntityManager, checkIds: readonly string[]): Promise<CheckFactValues> {
  if (checkIds.length === 0) return { categories: [], groups: [] };
  const [row] = await rows<CheckFactValues>(
    manager,
    `SELECT COALESCE((SELECT array_agg(DISTINCT c ORDER BY c) FROM check_metadata m, unnest(m.categories) c WHERE m.check_id = ANY($1::text[])), '{}') AS categories,
            COALESCE((SELECT array_agg(DISTINCT m.resource_group ORDER BY m.resource_group) FROM check_metadata m
                       WHERE m.check_id = ANY($1::text[]) AND m.resource_group IS NOT NULL), '{}') AS groups`,
    [checkIds],
  );
  return row;
}
