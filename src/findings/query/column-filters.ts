import { ParsedFilter } from '../../common/jsonapi/query-spec';
import { SqlConditions } from './sql-conditions';

/** `%value%` for ILIKE with the pattern characters of the value taken literally. */
export function containsPattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, '\\$&')}%`;
}

/**
 * One parsed filter on one column. `column` comes from the caller's allow-list,
 * never from the request; the value always travels as a parameter.
 */
export function addColumnFilter(conditions: SqlConditions, column: string, filter: ParsedFilter): void {
  const value = filter.value;
  switch (filter.operator) {
    case 'eq':
      conditions.add(`${column} = ${conditions.param(value)}`);
      return;
    case 'ne':
      conditions.add(`${column} <> ${conditions.param(value)}`);
      return;
    case 'in':
      conditions.add(`${column} = ANY(${conditions.param(value)})`);
      return;
    case 'icontains':
      conditions.add(`${column} ILIKE ${conditions.param(containsPattern(String(value)))}`);
      return;
    case 'iexact':
      conditions.add(`lower(${column}) = lower(${conditions.param(value)})`);
      return;
    case 'date': {
      const day = conditions.param(value);
      conditions.add(`${column} >= ${day}::timestamptz AND ${column} < ${day}::timestamptz + interval '1 day'`);
      return;
    }
    case 'gte':
      conditions.add(`${column} >= ${conditions.param(value)}`);
      return;
    case 'gt':
      conditions.add(`${column} > ${conditions.param(value)}`);
      return;
    case 'lte':
      conditions.add(`${column} <= ${conditions.param(value)}`);
      return;
    case 'lt':
      conditions.add(`${column} < ${conditions.param(value)}`);
      return;
  }
}
