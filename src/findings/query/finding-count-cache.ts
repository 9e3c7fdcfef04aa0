import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { EntityManager } from 'typeorm';
import { ParsedFilter } from '../../common/jsonapi/query-spec';
import { CURRENT_TENANT } from '../../database/rls-policy-sql';
import { preparedRows } from '../../database/sql';
import { tenantScope } from '../../database/tenant-context';
import { cappedCount, PageCount } from './page-counts';
import { providerScopeSql } from './provider-scope';
import { SqlConditions } from './sql-conditions';

/** Enough for many tenants' and users' distinct filter combinations; each entry is a few hundred bytes. */
const MAX_ENTRIES = 5_000;

interface CachedCount {
  version: string;
  count: PageCount;
}

/**
 * Page-number counts that no pre-computed table can answer (row filter rules,
 * filters on columns the totals lack), remembered between requests. Counting
 * those rows costs far more than the page itself, while the findings behind
 * them change only when a scan is ingested or findings are muted.
 *
 * An entry is reused only while the findings versions of the providers the
 * read covers are what they were (finding_versions: every writer of findings
 * moves them in its own transaction), so a count is never older than the data
 * the reader can see, in this process or after a write through any other. The
 * version is read before counting: a write that commits in between leaves an
 * entry under the older version, which the next read recomputes.
 *
 * The key is the count's whole WHERE with its parameters (the rules'
 * predicate, the caller's visible providers and template values included)
 * and the tenant, so an entry serves exactly the same question again.
 */
@Injectable()
export class FindingCountCache {
  private readonly entries = new LRUCache<string, CachedCount>({ max: MAX_ENTRIES });

  async count(manager: EntityManager, conditions: SqlConditions, filters: readonly ParsedFilter[]): Promise<PageCount> {
    const version = await findingsVersion(manager, filters);
    const key = cacheKey(tenantScope().tenantId, conditions);
    const cached = this.entries.get(key);
    if (cached && cached.version === version) return cached.count;
    const count = await cappedCount(manager, 'findings f', conditions);
    this.entries.set(key, { version, count });
    return count;
  }
}

/**
 * One value that changes whenever any finding of the providers in the read's
 * scope changes, or the scope itself does (a provider deleted, made
 * invisible, or matching the provider filters no longer).
 */
async function findingsVersion(manager: EntityManager, filters: readonly ParsedFilter[]): Promise<string> {
  const conditions = new SqlConditions();
  const scope = providerScopeSql(conditions, filters);
  const [row] = await preparedRows<{ version: string }>(
    manager,
    `SELECT md5(COALESCE(string_agg(s.id::text || ':' || COALESCE(v.version, 0), ',' ORDER BY s.id), '')) AS version
       FROM unnest(${scope}) AS s(id)
       LEFT JOIN finding_versions v ON v.tenant_id = ${CURRENT_TENANT} AND v.provider_id = s.id`,
    conditions.params,
  );
  return row.version;
}

function cacheKey(tenantId: string, conditions: SqlConditions): string {
  return createHash('sha256').update(tenantId).update('\0').update(conditions.where()).update('\0').update(JSON.stringify(conditions.params)).digest('base64');
}
