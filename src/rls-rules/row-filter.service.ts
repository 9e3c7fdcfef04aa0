import { Injectable } from '@nestjs/common';
import { currentPrincipal } from '../database/tenant-context';
import { bindClause } from './clause/compiled-clause';
import type { DatasetName } from './clause/dataset-catalog';
import { RuleSetCache } from './rule-set-cache';
import { templateValues } from './template-values';

export interface RowPredicate {
  /** A parenthesized boolean expression over `"<tableAlias>"."<column>"`, to AND into the query's WHERE. */
  sql: string;
  /** Values for $<paramOffset + 1>, $<paramOffset + 2>, ... in sql. */
  params: unknown[];
  /** The rules whose clauses make up sql. */
  ruleIds: string[];
}

/**
 * What features call to apply row filter rules to a read of a protected
 * dataset: every list, detail, count, aggregate and export of that dataset.
 */
@Injectable()
export class RowFilterService {
  constructor(private readonly cache: RuleSetCache) {}

  /**
   * The predicate for the current principal, or null when no rule applies.
   * Must run inside the request's (or job's) tenant transaction, with a
   * principal. The SQL text comes only from compiled rules; the template
   * values (current user id, email, tenant id) travel as parameters.
   */
  async predicateFor(dataset: DatasetName, tableAlias: string, paramOffset: number): Promise<RowPredicate | null> {
    const principal = currentPrincipal();
    const combined = await this.cache.combined(principal.tenantId, principal.roleIds, dataset);
    if (!combined.predicate) return null;
    const bound = bindClause(combined.predicate, { tableAlias, paramOffset });
    return { sql: bound.sql, params: bound.params.map(templateValues(principal)), ruleIds: [...combined.rules] };
  }
}
