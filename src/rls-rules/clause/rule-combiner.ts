import { type CompiledClause, joinClauses, mergeMemberships } from './compiled-clause';

export type FilterType = 'Regular' | 'Base';

export interface CombinableRule {
  id: string;
  filterType: FilterType;
  groupKey: string | null;
  roleIds: string[];
  tables: string[];
  compiled: CompiledClause;
}

export interface CombinedRules {
  /** Ids of the applied rules, in the order their clauses appear in the predicate. */
  rules: string[];
  /** null means no filter at all. */
  predicate: CompiledClause | null;
}

/**
 * Superset's semantics: a Regular rule filters the users holding one of its
 * roles; a Base rule filters everyone holding none of them (so a Base rule
 * without roles filters everyone). Applicable clauses sharing a group key are
 * ORed (those testing one column against literals merged into one IN list);
 * the groups and the ungrouped clauses are ANDed.
 *
 * The output depends only on the set of applicable rules, never on input order,
 * so it can serve as a cache key and be compared.
 */
export function combineRules(
  rules: readonly CombinableRule[],
  userRoleIds: readonly string[],
  dataset: string,
): CombinedRules {
  const heldRoles = new Set(userRoleIds);
  const applicable = rules
    .filter((rule) => rule.tables.includes(dataset) && appliesTo(rule, heldRoles))
    .sort(byGroupKeyThenId);
  if (applicable.length === 0) return { rules: [], predicate: null };

  // Sorted input: ungrouped rules come first, and each group's members are
  // contiguous, so insertion order below is already the output order.
  const terms: CompiledClause[] = [];
  const groups = new Map<string, CompiledClause[]>();
  for (const rule of applicable) {
    if (rule.groupKey === null) terms.push(rule.compiled);
    else groups.set(rule.groupKey, [...(groups.get(rule.groupKey) ?? []), rule.compiled]);
  }
  for (const members of groups.values()) terms.push(joinClauses(mergeMemberships(members), 'OR'));

  return { rules: applicable.map((rule) => rule.id), predicate: joinClauses(terms, 'AND') };
}

function appliesTo(rule: CombinableRule, heldRoles: ReadonlySet<string>): boolean {
  const holdsOneOfItsRoles = rule.roleIds.some((roleId) => heldRoles.has(roleId));
  return rule.filterType === 'Regular' ? holdsOneOfItsRoles : !holdsOneOfItsRoles;
}

// Plain code-unit comparison: locale-aware ordering could differ between hosts.
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byGroupKeyThenId(a: CombinableRule, b: CombinableRule): number {
  if (a.groupKey !== b.groupKey) {
    if (a.groupKey === null) return -1;
    if (b.groupKey === null) return 1;
    return compareStrings(a.groupKey, b.groupKey);
  }
  return compareStrings(a.id, b.id);
}
