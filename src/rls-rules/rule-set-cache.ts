import { Injectable } from '@nestjs/common';
import { tenantScope, type TenantScope } from '../database/tenant-context';
import { type CombinedRules, combineRules } from './clause/rule-combiner';
import { loadRuleSet, NO_RULES_VERSION, readRulesVersion, type RuleSet } from './rule-set.repository';

const MAX_TENANTS = 2000;
const MAX_COMBINATIONS_PER_TENANT = 512;
const NOTHING_APPLIES: CombinedRules = { rules: [], predicate: null };

interface TenantEntry {
  ruleSet: RuleSet;
  /** Keyed by dataset and sorted role ids. */
  combined: Map<string, CombinedRules>;
}

/**
 * The combined predicate per tenant, role set and dataset, in process memory.
 *
 * Entries are keyed by the tenant's rules version, which a trigger bumps in
 * the same transaction as any change to rules or their links. Each lookup
 * reads that version inside the caller's tenant transaction (one indexed
 * row; a read-only request's principal query brings it along), so a change
 * committed through any API process holds on the next request served by any
 * other, with no message to deliver. A user's roles are
 * not cached here at all: they come from the request's principal and are part
 * of the key.
 *
 * An instance per application, not a module-level singleton, so two
 * applications in one test process behave like two API processes.
 */
@Injectable()
export class RuleSetCache {
  private readonly tenants = new Map<string, TenantEntry>();
  // A read-only transaction cannot change rules itself, so the version it read
  // first serves all of its lookups: a list and its count cost one read.
  private readonly versionsOfReadOnlyScopes = new WeakMap<TenantScope, string>();

  async combined(tenantId: string, roleIds: readonly string[], dataset: string): Promise<CombinedRules> {
    const version = await this.currentVersion(tenantId);
    if (version === NO_RULES_VERSION) return NOTHING_APPLIES;
    const entry = await this.entryAt(tenantId, version);
    const key = `${dataset}|${[...roleIds].sort().join(',')}`;
    let combined = entry.combined.get(key);
    if (!combined) {
      combined = combineRules(entry.ruleSet.rules, roleIds, dataset);
      if (entry.combined.size >= MAX_COMBINATIONS_PER_TENANT) entry.combined.clear();
      entry.combined.set(key, combined);
    }
    return combined;
  }

  private async currentVersion(tenantId: string): Promise<string> {
    const scope = tenantScope();
    if (scope.tenantId !== tenantId) throw new Error('RuleSetCache: the tenant is not the one of the open transaction');
    // A read-only transaction's principal was read with the rules version, in its first statement.
    const withPrincipal = scope.readOnly ? scope.principal?.rulesVersion : undefined;
    if (withPrincipal !== undefined) return withPrincipal ?? NO_RULES_VERSION;
    const remembered = scope.readOnly ? this.versionsOfReadOnlyScopes.get(scope) : undefined;
    if (remembered !== undefined) return remembered;
    const version = await readRulesVersion(scope.manager, tenantId);
    if (scope.readOnly) this.versionsOfReadOnlyScopes.set(scope, version);
    return version;
  }

  private async entryAt(tenantId: string, version: string): Promise<TenantEntry> {
    const cached = this.tenants.get(tenantId);
    if (cached?.ruleSet.version === version) {
      // Re-inserted so the Map's order is least recently used first.
      this.tenants.delete(tenantId);
      this.tenants.set(tenantId, cached);
      return cached;
    }
    const ruleSet = await loadRuleSet(tenantScope().manager, tenantId);
    const entry: TenantEntry = { ruleSet, combined: new Map() };
    // A concurrent change may have committed between the two reads; the set
    // is cached under the version it was read with, never the one asked for.
    this.remember(tenantId, entry);
    return entry;
  }

  private remember(tenantId: string, entry: TenantEntry): void {
    const current = this.tenants.get(tenantId);
    // Never replace a newer set with an older one a slower request read.
    if (current && BigInt(current.ruleSet.version) > BigInt(entry.ruleSet.version)) return;
    this.tenants.delete(tenantId);
    this.tenants.set(tenantId, entry);
    if (this.tenants.size > MAX_TENANTS) this.tenants.delete(this.tenants.keys().next().value as string);
  }
}
