import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { currentPrincipal } from '../database/tenant-context';
import { displayClause } from './clause/compiled-clause';
import type { RlsRuleRow, EffectiveFilterRow } from './rls-rule.resource';
import { findRules } from './rls-rules.repository';
import { memberRoleIds } from './role-lookups.repository';
import { RuleSetCache } from './rule-set-cache';

/**
 * Which rules filter a dataset for a user, and the predicate they combine
 * into: the same cache and combination the reads use, so what it shows is
 * what applies.
 */
@Injectable()
export class EffectiveFilterService {
  constructor(private readonly cache: RuleSetCache) {}

  async effective(table: string, userId: string | undefined): Promise<EffectiveFilterRow> {
    const principal = currentPrincipal();
    const subject = userId ?? principal.userId;
    let roleIds: readonly string[] = principal.roleIds;
    if (subject !== principal.userId) {
      if (!principal.permissions.has('manage_users')) {
        throw ApiError.forbidden("Another user's filters need the 'manage_users' permission.");
      }
      const memberRoles = await memberRoleIds(subject);
      if (!memberRoles) throw ApiError.notFound('No such user in this tenant.');
      roleIds = memberRoles;
    }
    const combined = await this.cache.combined(principal.tenantId, roleIds, table);
    return {
      table,
      userId: subject,
      roleIds,
      clause: combined.predicate ? displayClause(combined.predicate.sql) : null,
      ruleIds: [...combined.rules],
    };
  }

  /** The rules of an effective filter, in the order they appear in its clause. */
  async rulesOf(filter: EffectiveFilterRow): Promise<RlsRuleRow[]> {
    if (filter.ruleIds.length === 0) return [];
    const byId = new Map((await findRules(filter.ruleIds)).map((rule) => [rule.id, rule]));
    return filter.ruleIds.flatMap((id) => byId.get(id) ?? []);
  }
}
