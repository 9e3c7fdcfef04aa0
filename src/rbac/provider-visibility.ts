import { currentPrincipal } from '../database/tenant-context';
import { SqlParams } from './list-query-sql';

/**
 * The visibility rule in SQL: a condition restricting `providerIdColumn` to
 * the providers the caller's first role may see, or null when the role has
 * unlimited visibility. Anything hanging off a provider (secrets, scans,
 * findings, tasks) filters through its provider id with this.
 */
export function visibleProviderCondition(providerIdColumn: string, params: SqlParams): string | null {
  const visible = currentPrincipal().visibleProviderIds;
  if (visible === null) return null;
  // One comma-joined string rather than an array parameter: hundreds of ids cost far less to send this way.
  return `${providerIdColumn} = ANY(string_to_array(${params.add([...visible].join(','))}, ',')::uuid[])`;
}
