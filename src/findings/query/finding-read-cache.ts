import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { EntityManager } from 'typeorm';
import { ParsedFilter } from '../../common/jsonapi/query-spec';
import { CURRENT_TENANT } from '../../database/rls-policy-sql';
import { preparedRows, rows } from '../../database/sql';
import { tenantScope, type TenantScope } from '../../database/tenant-context';
import { cappedCount, PageCount } from './page-counts';
import { providerScopeSql } from './provider-scope';
import { SqlConditions } from './sql-conditions';

/** Enough for many tenants' and users' distinct questions; most answers are a few hundred bytes. */
const MAX_ENTRIES = 5_000;
/** A bound on the memory answers take (a compliance answer can run to hundreds of kilobytes), measured as JSON text. */
const MAX_TOTAL_CHARS = 64 * 1024 * 1024;

interface CachedRead {
  version: string;
  value: unknown;
}

/** One read as a statement: its SQL text and parameters say everything it depends on besides the findings. */
export interface ReadKey {
  sql: string;
  params: readonly unknown[];
}

/**
 * Reads of findings and resources that no pre-computed table can answer
 * (under row filter rules, or filtered on columns the totals lack; resource
 * counts and metadata always), remembered between requests: page-number
 * counts, metadata, and a rule-filtered caller's overviews and compliance.
 * Computing them reads every matching row, while the data behind them
 * changes only when a scan is ingested or findings are muted.
 *
 * An entry is reused only while the versions of the providers the read
 * covers are what they were (finding_versions: every ingestion batch and
 * every mute moves them in its own transaction), so an answer is never older than the
 * data the reader can see, in this process or after a write through any
 * other. The version is read before computing: a write that commits in
 * between leaves an entry under the older version, which the next read
 * recomputes.
 *
 * The key is the read's whole statement with its parameters (the rules'
 * predicate, the caller's visible providers, the scans it covers and
 * template values included) and the tenant, so an entry answers exactly the
 * same question again. Answers are shared between requests: callers must not
 * change them.
 */
@Injectable()
export class FindingReadCache {
  private readonly entries = new LRUCache<string, CachedRead>({
    max: MAX_ENTRIES,
    maxSize: MAX_TOTAL_CHARS,
    sizeCalculation: (entry) => Math.max(1, JSON.stringify(entry.value).length),
  });

  // A read-only transaction writes no findings, so the version it read first for a scope serves
  // its other reads of that scope: an overview of two statements costs one version read.
  private readonly versionsOfReadOnlyScopes = new WeakMap<TenantScope, Map<string, string>>();

  // Computations under way, by key and version. Requests that miss the same entry together wait
  // for one computation: 32 requests counting the same rare check over millions of findings at
  // once kept every core busy for seconds and completed none of them within it.
  private readonly computing = new Map<string, Promise<unknown>>();

  /** `filters` decide the providers in scope (see providerScopeSql); `compute` runs on a miss. */
  async remember<T>(manager: EntityManager, filters: readonly ParsedFilter[], read: ReadKey, compute: () => Promise<T>): Promise<T> {
    const version = await this.versionOf(manager, filters);
    const key = cacheKey(tenantScope().tenantId, read);
    const cached = this.entries.get(key);
    if (cached && cached.version === version) return cached.value as T;
    const flight = `${key}\0${version}`;
    const shared = this.computing.get(flight);
    if (shared) {
      // Same tenant, statement and data version: the same answer. Should the computation fail
      // (its request's transaction ended, say), this request computes on its own.
      try {
        return (await shared) as T;
      } catch {
        return compute();
      }
    }
    const computation = compute().then((value) => {
      this.entries.set(key, { version, value });
      return value;
    });
    this.computing.set(flight, computation);
    try {
      return await computation;
    } finally {
      this.computing.delete(flight);
    }
  }

  /** The rows of one statement, remembered. */
  rows<T>(manager: EntityManager, filters: readonly ParsedFilter[], sql: string, params: unknown[]): Promise<T[]> {
    return this.remember(manager, filters, { sql, params }, () => rows<T>(manager, sql, params));
  }

  /** A page-number count capped at COUNT_CAP. */
  count(manager: EntityManager, conditions: SqlConditions, filters: readonly ParsedFilter[]): Promise<PageCount> {
    return this.remember(manager, filters, { sql: `count findings f ${conditions.where()}`, params: conditions.params }, () => cappedCount(manager, 'findings f', conditions));
  }

  /**
   * One value that changes whenever any finding or resource of the providers
   * in the read's scope changes, or the scope itself does (a provider
   * deleted, made invisible, or matching the provider filters no longer).
   */
  private async versionOf(manager: EntityManager, filters: readonly ParsedFilter[]): Promise<string> {
    const conditions = new SqlConditions();
    const scope = providerScopeSql(conditions, filters);
    const transaction = tenantScope();
    const remembered = transaction.readOnly ? this.versionsOfReadOnlyScopes.get(transaction) : undefined;
    const scopeKey = `${scope}\0${JSON.stringify(conditions.params)}`;
    const known = remembered?.get(scopeKey);
    if (known !== undefined) return known;
    const [row] = await preparedRows<{ version: string }>(
      manager,
      `SELECT md5(COALESCE(string_agg(s.id::text || ':' || COALESCE(v.version, 0), ',' ORDER BY s.id), '')) AS version
         FROM unnest(${scope}) AS s(id)
         LEFT JOIN finding_versions v ON v.tenant_id = ${CURRENT_TENANT} AND v.provider_id = s.id`,
      conditions.params,
    );
    if (transaction.readOnly) {
      const versions = remembered ?? new Map<string, string>();
      versions.set(scopeKey, row.version);
      this.versionsOfReadOnlyScopes.set(transaction, versions);
    }
    return row.version;
  }
}

function cacheKey(tenantId: string, read: ReadKey): string {
  return createHash('sha256').update(tenantId).update('\0').update(read.sql).update('\0').update(JSON.stringify(read.params)).digest('base64');
}
