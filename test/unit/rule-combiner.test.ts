import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileClause } from '../../src/rls-rules/clause/clause-compiler';
import { bindClause } from '../../src/rls-rules/clause/compiled-clause';
import { type CombinableRule, combineRules } from '../../src/rls-rules/clause/rule-combiner';

const ANALYST = 'role-analyst';
const AUDITOR = 'role-auditor';
const ADMIN = 'role-admin';

/** A rule on findings whose compiled clause is simply `(<id>)`, so the predicate shows which rules applied and how. */
function rule(id: string, overrides: Partial<CombinableRule> = {}): CombinableRule {
  return {
    id,
    filterType: 'Regular',
    groupKey: null,
    roleIds: [ANALYST],
    tables: ['findings'],
    compiled: { sql: `(${id})`, params: [] },
    ...overrides,
  };
}

function predicateSql(rules: CombinableRule[], userRoleIds: string[], dataset = 'findings'): string | null {
  return combineRules(rules, userRoleIds, dataset).predicate?.sql ?? null;
}

describe('combineRules: which rules apply', () => {
  it('applies a Regular rule to a user holding one of its roles, and not to others', () => {
    const rules = [rule('r1', { roleIds: [ANALYST, AUDITOR] })];
    assert.deepEqual(combineRules(rules, [AUDITOR], 'findings'), {
      rules: ['r1'],
      predicate: { sql: '(r1)', params: [] },
    });
    assert.deepEqual(combineRules(rules, [ADMIN], 'findings'), { rules: [], predicate: null });
    assert.deepEqual(combineRules(rules, [], 'findings'), { rules: [], predicate: null });
  });

  it('never applies a Regular rule without roles', () => {
    assert.equal(predicateSql([rule('r1', { roleIds: [] })], [ANALYST]), null);
  });

  it('applies a Base rule to users holding none of its roles', () => {
    const rules = [rule('b1', { filterType: 'Base', roleIds: [ADMIN] })];
    assert.equal(predicateSql(rules, [ANALYST]), '(b1)');
    assert.equal(predicateSql(rules, []), '(b1)');
    assert.equal(predicateSql(rules, [ANALYST, ADMIN]), null);
  });

  it('applies a Base rule without roles to everyone', () => {
    const rules = [rule('b1', { filterType: 'Base', roleIds: [] })];
    assert.equal(predicateSql(rules, []), '(b1)');
    assert.equal(predicateSql(rules, [ADMIN]), '(b1)');
  });

  it('considers every role the user holds', () => {
    const rules = [rule('r1', { roleIds: [AUDITOR] }), rule('r2', { roleIds: [ANALYST] }), rule('r3', { roleIds: [ADMIN] })];
    assert.deepEqual(combineRules(rules, [ANALYST, AUDITOR], 'findings').rules, ['r1', 'r2']);
  });

  it('ignores rules on other datasets', () => {
    const rules = [rule('r1', { tables: ['resources'] }), rule('b1', { filterType: 'Base', roleIds: [], tables: ['scans'] })];
    assert.deepEqual(combineRules(rules, [ANALYST], 'findings'), { rules: [], predicate: null });
    assert.equal(predicateSql(rules, [ANALYST], 'resources'), '(r1)');
    assert.equal(predicateSql(rules, [ANALYST], 'scans'), '(b1)');
  });

  it('applies a rule listing several tables to each of them', () => {
    const rules = [rule('r1', { tables: ['findings', 'resources'] })];
    assert.equal(predicateSql(rules, [ANALYST], 'findings'), '(r1)');
    assert.equal(predicateSql(rules, [ANALYST], 'resources'), '(r1)');
  });

  it('returns no filter when there are no rules', () => {
    assert.deepEqual(combineRules([], [ANALYST], 'findings'), { rules: [], predicate: null });
  });
});

describe('combineRules: how clauses are joined', () => {
  it('ANDs rules without a group key', () => {
    assert.equal(predicateSql([rule('r2'), rule('r1')], [ANALYST]), '((r1) AND (r2))');
  });

  it('ORs rules sharing a group key', () => {
    const rules = [rule('r2', { groupKey: 'region' }), rule('r1', { groupKey: 'region' })];
    assert.equal(predicateSql(rules, [ANALYST]), '((r1) OR (r2))');
  });

  it('ANDs distinct groups and ungrouped rules together', () => {
    const rules = [
      rule('r4', { groupKey: 'severity' }),
      rule('r3', { groupKey: 'region' }),
      rule('r1', { groupKey: 'region' }),
      rule('r5'),
      rule('r2', { groupKey: 'severity' }),
      rule('r0'),
    ];
    assert.deepEqual(combineRules(rules, [ANALYST], 'findings'), {
      rules: ['r0', 'r5', 'r1', 'r3', 'r2', 'r4'],
      predicate: { sql: '((r0) AND (r5) AND ((r1) OR (r3)) AND ((r2) OR (r4)))', params: [] },
    });
  });

  it('mixes Regular and Base rules within one group', () => {
    const rules = [
      rule('r1', { groupKey: 'g' }),
      rule('b1', { groupKey: 'g', filterType: 'Base', roleIds: [ADMIN] }),
      rule('b2', { groupKey: 'g', filterType: 'Base', roleIds: [ANALYST] }),
    ];
    assert.equal(predicateSql(rules, [ANALYST]), '((b1) OR (r1))');
  });

  it('keeps a group with a single applicable rule as that rule alone', () => {
    const rules = [rule('r1', { groupKey: 'g' }), rule('r2', { groupKey: 'g', roleIds: [ADMIN] }), rule('r3')];
    assert.equal(predicateSql(rules, [ANALYST]), '((r3) AND (r1))');
  });

  it('produces the same output whatever the input order', () => {
    const rules = [rule('a', { groupKey: 'x' }), rule('b'), rule('c', { groupKey: 'x' }), rule('d', { groupKey: 'w' })];
    const expected = combineRules(rules, [ANALYST], 'findings');
    assert.deepEqual(combineRules([...rules].reverse(), [ANALYST], 'findings'), expected);
    assert.deepEqual(combineRules([rules[2], rules[0], rules[3], rules[1]], [ANALYST], 'findings'), expected);
  });

  it('does not reorder the caller’s array', () => {
    const rules = [rule('r2'), rule('r1')];
    combineRules(rules, [ANALYST], 'findings');
    assert.deepEqual(rules.map((r) => r.id), ['r2', 'r1']);
  });
});

describe('combineRules with compiled clauses', () => {
  it('merges template parameters across rules and binds them once each', async () => {
    const rules = [
      rule('r1', { compiled: await compileClause("status = 'FAIL'", 'findings') }),
      rule('r2', { groupKey: 'owner', compiled: await compileClause('provider_id = {{ current_tenant_id }}', 'findings') }),
      rule('r3', {
        groupKey: 'owner',
        compiled: await compileClause('uid = {{ current_user_email }} or scan_id = {{ current_tenant_id }}', 'findings'),
      }),
    ];
    const { predicate } = combineRules(rules, [ANALYST], 'findings');
    assert.ok(predicate);
    assert.deepEqual(predicate.params, ['current_tenant_id', 'current_user_email']);
    const bound = bindClause(predicate, { tableAlias: 'f', paramOffset: 1 });
    assert.equal(
      bound.sql,
      `(("f"."status" = 'FAIL') AND (("f"."provider_id" = $2) OR (("f"."uid" = $3) OR ("f"."scan_id" = $2))))`,
    );
    assert.deepEqual(bound.params, ['current_tenant_id', 'current_user_email']);
  });
});

describe('combineRules: OR-ed tests of one column against literals become one IN list', () => {
  const compiled = (clause: string) => compileClause(clause, 'findings');

  it('records which clauses are such a test', async () => {
    assert.deepEqual((await compiled("region = 'eu-west-1'")).membership, { column: 'region', values: ["'eu-west-1'"] });
    assert.deepEqual((await compiled("'eu-west-1' = findings.region")).membership, { column: 'region', values: ["'eu-west-1'"] });
    assert.deepEqual((await compiled("severity IN ('high', 'critical')")).membership, { column: 'severity', values: ["'high'", "'critical'"] });
    for (const clause of [
      "region <> 'eu-west-1'",
      "region NOT IN ('a')",
      'region = NULL',
      'region = {{ current_user_email }}',
      "lower(region) = 'a'",
      "region = 'a' OR region = 'b'",
      "NOT (region = 'a')",
      'region = service',
    ]) {
      assert.equal((await compiled(clause)).membership, undefined, clause);
    }
  });

  it('merges a group’s members on the same column, in place of the first, keeping the others', async () => {
    const rules = [
      rule('r1', { groupKey: 'where', compiled: await compiled("region = 'eu-west-1'") }),
      rule('r2', { groupKey: 'where', compiled: await compiled("region IN ('us-east-1', 'eu-west-1')") }),
      rule('r3', { groupKey: 'where', compiled: await compiled('muted') }),
      rule('r4', { groupKey: 'where', compiled: await compiled("region = 'ap-south-1'") }),
      rule('r5', { groupKey: 'who', compiled: await compiled("severity = 'high'") }),
      rule('r6', { compiled: await compiled("region = 'sa-east-1'") }),
    ];
    const combined = combineRules(rules, [ANALYST], 'findings');
    assert.deepEqual(combined.rules, ['r6', 'r1', 'r2', 'r3', 'r4', 'r5'], 'every rule still counts as applied');
    assert.equal(
      bindClause(combined.predicate!, { tableAlias: 'f', paramOffset: 0 }).sql,
      `(("f"."region" = 'sa-east-1') AND (("f"."region" IN ('eu-west-1', 'us-east-1', 'ap-south-1')) OR ("f"."muted")) AND ("f"."severity" = 'high'))`,
    );
  });

  it('never merges across groups or ungrouped rules, which are ANDed', async () => {
    const rules = [
      rule('r1', { compiled: await compiled("region = 'a'") }),
      rule('r2', { compiled: await compiled("region = 'b'") }),
      rule('r3', { groupKey: 'g', compiled: await compiled("region = 'c'") }),
    ];
    assert.equal(
      bindClause(combineRules(rules, [ANALYST], 'findings').predicate!, { tableAlias: 'f', paramOffset: 0 }).sql,
      `(("f"."region" = 'a') AND ("f"."region" = 'b') AND ("f"."region" = 'c'))`,
    );
  });
});
