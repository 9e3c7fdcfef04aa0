import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EntityManager } from 'typeorm';
import { type Principal, runWithContext, type TenantScope } from '../../src/database/tenant-context';
import { RuleSetCache } from '../../src/rls-rules/rule-set-cache';

const TENANT_A = '00000000-0000-7000-8000-00000000000a';
const TENANT_B = '00000000-0000-7000-8000-00000000000b';
const ANALYST = 'role-analyst';

interface StoredRule {
  id: string;
  filter_type: 'Regular' | 'Base';
  group_key: string | null;
  compiled: { sql: string; params: string[] };
  role_ids: string[];
  tables: string[];
}

/** A stand-in database: per tenant, a rules version and the rules; counts the queries it answers. */
class FakeDatabase {
  versions = new Map<string, string>();
  rules = new Map<string, StoredRule[]>();
  versionReads = 0;
  ruleSetLoads = 0;

  manager(): EntityManager {
    return {
      query: async (sql: string, params: unknown[]) => {
        const tenantId = params[0] as string;
        const version = this.versions.get(tenantId);
        if (sql.includes('json_agg')) {
          this.ruleSetLoads++;
          return [{ version: version ?? '0', rules: this.rules.get(tenantId) ?? [] }];
        }
        this.versionReads++;
        return version === undefined ? [] : [{ version }];
      },
    } as unknown as EntityManager;
  }

  inTransaction<T>(tenantId: string, readOnly: boolean, fn: () => Promise<T>, principal?: Principal): Promise<T> {
    const scope: TenantScope = { tenantId, manager: this.manager(), readOnly, afterCommit: [], principal };
    return runWithContext({ scope }, fn);
  }
}

function rule(id: string, sql: string, roleIds = [ANALYST]): StoredRule {
  return { id, filter_type: 'Regular', group_key: null, compiled: { sql, params: [] }, role_ids: roleIds, tables: ['findings'] };
}

describe('RuleSetCache', () => {
  it('a tenant that never had a rule costs one version read and no load', async () => {
    const db = new FakeDatabase();
    const cache = new RuleSetCache();
    const combined = await db.inTransaction(TENANT_A, false, () => cache.combined(TENANT_A, [ANALYST], 'findings'));
    assert.deepEqual(combined, { rules: [], predicate: null });
    assert.deepEqual([db.versionReads, db.ruleSetLoads], [1, 0]);
  });

  it('loads the rules once per version, and again as soon as the version moves', async () => {
    const db = new FakeDatabase();
    const cache = new RuleSetCache();
    db.versions.set(TENANT_A, '4');
    db.rules.set(TENANT_A, [rule('r1', "({col:status} = 'FAIL')")]);
    const lookup = () => db.inTransaction(TENANT_A, false, () => cache.combined(TENANT_A, [ANALYST], 'findings'));

    assert.equal((await lookup()).predicate?.sql, "({col:status} = 'FAIL')");
    await lookup();
    await lookup();
    assert.deepEqual([db.versionReads, db.ruleSetLoads], [3, 1]);

    db.versions.set(TENANT_A, '5');
    db.rules.set(TENANT_A, [rule('r1', "({col:status} = 'PASS')")]);
    assert.equal((await lookup()).predicate?.sql, "({col:status} = 'PASS')");
    assert.equal(db.ruleSetLoads, 2);
  });

  it('keys the combination by role set (in any order) and dataset', async () => {
    const db = new FakeDatabase();
    const cache = new RuleSetCache();
    db.versions.set(TENANT_A, '1');
    db.rules.set(TENANT_A, [rule('r1', '(a)'), rule('r2', '(b)', ['role-auditor'])]);
    const lookup = (roles: string[], dataset = 'findings') => db.inTransaction(TENANT_A, false, () => cache.combined(TENANT_A, roles, dataset));
    assert.deepEqual((await lookup([ANALYST])).rules, ['r1']);
    assert.deepEqual((await lookup(['role-auditor', ANALYST])).rules, ['r1', 'r2']);
    assert.deepEqual((await lookup([ANALYST, 'role-auditor'])).rules, ['r1', 'r2']);
    assert.deepEqual((await lookup([ANALYST], 'providers')).rules, []);
    assert.equal(db.ruleSetLoads, 1);
  });

  it('in a read-only transaction, reads the version once for all lookups', async () => {
    const db = new FakeDatabase();
    const cache = new RuleSetCache();
    db.versions.set(TENANT_A, '2');
    db.rules.set(TENANT_A, [rule('r1', '(a)')]);
    await db.inTransaction(TENANT_A, true, async () => {
      await cache.combined(TENANT_A, [ANALYST], 'findings');
      await cache.combined(TENANT_A, [ANALYST], 'findings');
      await cache.combined(TENANT_A, [], 'providers');
    });
    assert.equal(db.versionReads, 1);
    await db.inTransaction(TENANT_A, false, async () => {
      await cache.combined(TENANT_A, [ANALYST], 'findings');
      await cache.combined(TENANT_A, [ANALYST], 'findings');
    });
    assert.equal(db.versionReads, 3, 'a writable transaction may change rules, so it reads the version every time');
  });

  it('a read-only request uses the version its principal query brought along, and reads none itself', async () => {
    const db = new FakeDatabase();
    const cache = new RuleSetCache();
    db.versions.set(TENANT_A, '7');
    db.rules.set(TENANT_A, [rule('r1', '(a)')]);
    const principal = (rulesVersion: string | null | undefined): Principal => ({
      userId: 'u', tenantId: TENANT_A, roleId: ANALYST, roleIds: [ANALYST], permissions: new Set(), membershipRole: 'member', visibleProviderIds: null, rulesVersion,
    });
    const lookup = (readOnly: boolean, who: Principal) => db.inTransaction(TENANT_A, readOnly, () => cache.combined(TENANT_A, [ANALYST], 'findings'), who);

    assert.equal((await lookup(true, principal('7'))).predicate?.sql, '(a)');
    assert.deepEqual([db.versionReads, db.ruleSetLoads], [0, 1]);
    assert.deepEqual((await lookup(true, principal(null))).rules, [], 'null: the tenant never had a rule');
    assert.equal(db.versionReads, 0);

    await lookup(false, principal('7'));
    assert.equal(db.versionReads, 1, 'a writable transaction may change rules after its first statement, so it reads the version');
    await lookup(true, principal(undefined));
    assert.equal(db.versionReads, 2, 'a principal built without the version');
  });

  it('never serves one tenant’s rules to another, even at the same version', async () => {
    const db = new FakeDatabase();
    const cache = new RuleSetCache();
    db.versions.set(TENANT_A, '7');
    db.versions.set(TENANT_B, '7');
    db.rules.set(TENANT_A, [rule('r1', '(a)')]);
    assert.deepEqual((await db.inTransaction(TENANT_A, false, () => cache.combined(TENANT_A, [ANALYST], 'findings'))).rules, ['r1']);
    assert.deepEqual((await db.inTransaction(TENANT_B, false, () => cache.combined(TENANT_B, [ANALYST], 'findings'))).rules, []);
  });

  it('refuses a lookup for a tenant other than the open transaction’s', async () => {
    const db = new FakeDatabase();
    const cache = new RuleSetCache();
    await assert.rejects(db.inTransaction(TENANT_A, false, () => cache.combined(TENANT_B, [], 'findings')), /not the one of the open transaction/);
  });
});
