import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/common/errors/api-error';
import { compileClause } from '../../src/rls-rules/clause/clause-compiler';
import { bindClause, joinClauses } from '../../src/rls-rules/clause/compiled-clause';
import { getDataset, listDatasets } from '../../src/rls-rules/clause/dataset-catalog';

/** Compiles for findings and binds with alias f and no preceding parameters. */
async function boundSql(clause: string, dataset = 'findings'): Promise<string> {
  return bindClause(await compileClause(clause, dataset), { tableAlias: 'f', paramOffset: 0 }).sql;
}

/** Asserts the clause is refused as invalid_clause with a detail matching `detail`. */
async function assertRefused(clause: string, detail: RegExp, dataset = 'findings'): Promise<void> {
  await assert.rejects(compileClause(clause, dataset), (error: unknown) => {
    assert.ok(error instanceof ApiError, `expected an ApiError for ${clause}`);
    assert.equal(error.status, 400);
    assert.equal(error.code, 'invalid_clause');
    assert.deepEqual(error.source, { pointer: '/data/attributes/clause' });
    assert.match(error.detail, detail);
    return true;
  });
}

describe('dataset catalog', () => {
  it('lists the four protected datasets with typed columns', () => {
    assert.deepEqual(listDatasets().map((dataset) => dataset.name), ['providers', 'scans', 'findings', 'resources']);
    assert.equal(getDataset('findings')?.columns.get('muted'), 'boolean');
    assert.equal(getDataset('scans')?.columns.get('progress'), 'integer');
    assert.equal(getDataset('findings')?.columns.get('tenant_id'), undefined);
    assert.equal(getDataset('findings')?.columns.get('constructor'), undefined);
    assert.equal(getDataset('constructor'), undefined);
  });
});

describe('compileClause: accepted clauses', () => {
  const accepted: Array<[clause: string, sql: string]> = [
    ["status = 'FAIL'", `("f"."status" = 'FAIL')`],
    ["status <> 'PASS' and severity != 'low'", `(("f"."status" <> 'PASS') AND ("f"."severity" <> 'low'))`],
    [
      "inserted_at < '2025-01-01' or inserted_at <= '2025-01-01' or inserted_at > '2024-01-01' or inserted_at >= '2024-01-01'",
      `(("f"."inserted_at" < '2025-01-01') OR ("f"."inserted_at" <= '2025-01-01') OR ("f"."inserted_at" > '2024-01-01') OR ("f"."inserted_at" >= '2024-01-01'))`,
    ],
    ['not muted', `(NOT "f"."muted")`],
    ['muted', `("f"."muted")`],
    ["severity in ('high', 'critical')", `("f"."severity" IN ('high', 'critical'))`],
    ["severity not in ('low')", `("f"."severity" NOT IN ('low'))`],
    [
      "inserted_at between '2024-01-01' and '2025-01-01'",
      `("f"."inserted_at" BETWEEN '2024-01-01' AND '2025-01-01')`,
    ],
    [
      "inserted_at not between date '2024-01-01' and '2025-01-01'",
      `("f"."inserted_at" NOT BETWEEN CAST('2024-01-01' AS pg_catalog.date) AND '2025-01-01')`,
    ],
    ["region like 'eu-%'", `("f"."region" LIKE 'eu-%')`],
    ["region not like 'us-%'", `("f"."region" NOT LIKE 'us-%')`],
    ["service ilike 's3%'", `("f"."service" ILIKE 's3%')`],
    ["service not ilike 'iam%'", `("f"."service" NOT ILIKE 'iam%')`],
    ['delta is null', `("f"."delta" IS NULL)`],
    ['delta is not null', `("f"."delta" IS NOT NULL)`],
    ['muted is true', `("f"."muted" IS TRUE)`],
    ['muted is not true', `("f"."muted" IS NOT TRUE)`],
    ['muted is false', `("f"."muted" IS FALSE)`],
    ['muted is not false', `("f"."muted" IS NOT FALSE)`],
    ['muted = true or muted = false', `(("f"."muted" = TRUE) OR ("f"."muted" = FALSE))`],
    ['muted = null', `("f"."muted" = NULL)`],
    [
      "status = 'FAIL' and (severity = 'high' or not muted)",
      `(("f"."status" = 'FAIL') AND (("f"."severity" = 'high') OR (NOT "f"."muted")))`,
    ],
    ["((status = 'FAIL'))", `("f"."status" = 'FAIL')`],
    ["STATUS = 'FAIL'", `("f"."status" = 'FAIL')`],
    ["findings.status = 'FAIL'", `("f"."status" = 'FAIL')`],
    [
      "cast(provider_id as text) like '0%' and check_id::int > 3 and check_id::integer < 9",
      `((CAST("f"."provider_id" AS pg_catalog.text) LIKE '0%') AND (CAST("f"."check_id" AS pg_catalog.int4) > 3) AND (CAST("f"."check_id" AS pg_catalog.int4) < 9))`,
    ],
    [
      "check_id::bigint = 1 and check_id::numeric = 1.5 and status::varchar = 'x'",
      `((CAST("f"."check_id" AS pg_catalog.int8) = 1) AND (CAST("f"."check_id" AS pg_catalog.numeric) = 1.5) AND (CAST("f"."status" AS pg_catalog.varchar) = 'x'))`,
    ],
    [
      "'true'::boolean and inserted_at::timestamptz > '2024-01-01' and id::uuid = id",
      `(CAST('true' AS pg_catalog.bool) AND (CAST("f"."inserted_at" AS pg_catalog.timestamptz) > '2024-01-01') AND (CAST("f"."id" AS pg_catalog.uuid) = "f"."id"))`,
    ],
    [
      "lower(status) = 'fail' and upper(severity) = 'HIGH'",
      `((pg_catalog.lower("f"."status") = 'fail') AND (pg_catalog.upper("f"."severity") = 'HIGH'))`,
    ],
    [
      "trim(region) = 'x' and trim(both '-' from region) = 'y'",
      `((pg_catalog.btrim("f"."region") = 'x') AND (pg_catalog.btrim("f"."region", '-') = 'y'))`,
    ],
    ['length(uid) > 3 and abs(-2) = 2', `((pg_catalog.length("f"."uid") > 3) AND (pg_catalog.abs(-2) = 2))`],
    [
      "coalesce(delta, 'none') = 'new' and nullif(region, '') is not null",
      `((COALESCE("f"."delta", 'none') = 'new') AND (NULLIF("f"."region", '') IS NOT NULL))`,
    ],
    ['coalesce(muted, false)', `(COALESCE("f"."muted", FALSE))`],
    ['muted is null and 0 = 0 and 2.5 > 1 and -3 < 0', `(("f"."muted" IS NULL) AND (0 = 0) AND (2.5 > 1) AND (-3 < 0))`],
    ["status = 'a--b' and uid = '/* x */' and region = 'x;y'", `(("f"."status" = 'a--b') AND ("f"."uid" = '/* x */') AND ("f"."region" = 'x;y'))`],
  ];
  for (const [clause, sql] of accepted) {
    it(`accepts ${clause}`, async () => {
      assert.equal(await boundSql(clause), sql);
    });
  }

  it('checks columns against the dataset the clause is compiled for', async () => {
    assert.equal(await boundSql('progress >= 50', 'scans'), `("f"."progress" >= 50)`);
    assert.equal(await boundSql('connected', 'providers'), `("f"."connected")`);
    assert.equal(await boundSql("type = 'bucket'", 'resources'), `("f"."type" = 'bucket')`);
    await assertRefused('progress >= 50', /unknown column progress/, 'findings');
  });

  it('re-renders string constants with quotes doubled, whatever quoting the admin used', async () => {
    assert.equal(await boundSql("uid = 'it''s'"), `("f"."uid" = 'it''s')`);
    assert.equal(await boundSql("uid = E'it\\'s'"), `("f"."uid" = 'it''s')`);
    assert.equal(await boundSql("uid = $$it's$$"), `("f"."uid" = 'it''s')`);
    assert.equal(await boundSql("uid = 'x'' OR ''1''=''1'"), `("f"."uid" = 'x'' OR ''1''=''1')`);
  });

  it('renders a backslash in the E form, which reads the same under any standard_conforming_strings', async () => {
    assert.equal(await boundSql("uid = 'a\\b'"), `("f"."uid" = E'a\\\\b')`);
    assert.equal(await boundSql("uid = 'a\\''' or true"), `(("f"."uid" = E'a\\\\''') OR TRUE)`);
  });

  it('leaves marker-like text inside string constants alone', async () => {
    const compiled = await compileClause("uid = '{col:status}' or uid = '{param:current_user_id}'", 'findings');
    const bound = bindClause(compiled, { tableAlias: 'f', paramOffset: 0 });
    assert.equal(bound.sql, `(("f"."uid" = '{col:status}') OR ("f"."uid" = '{param:current_user_id}'))`);
    assert.deepEqual(bound.params, []);
  });
});

describe('compileClause: refused clauses', () => {
  const refused: Array<[clause: string, detail: RegExp]> = [
    ['(select 1) = 1', /subqueries/],
    ['exists (select 1 from findings)', /subqueries/],
    ['status in (select status from findings)', /subqueries/],
    ["current_setting('api.tenant_id') = 'x'", /function current_setting is not allowed/],
    ["set_config('api.tenant_id', 'x', false) = 'x'", /function set_config is not allowed/],
    ['pg_sleep(10) is null', /function pg_sleep is not allowed/],
    ['now() > inserted_at', /function now is not allowed/],
    ["btrim(region) = 'x'", /function btrim is not allowed/],
    ["pg_catalog.lower(status) = 'x'", /schema-qualified function pg_catalog\.lower/],
    ["public.lower(status) = 'x'", /schema-qualified function public\.lower/],
    ["ctid = '(0,1)'", /system column ctid/],
    ['xmin = 1', /system column xmin/],
    ['findings.xmax = 1', /system column xmax/],
    ["tenant_id = '00000000-0000-0000-0000-000000000000'", /unknown column tenant_id/],
    ["no_such_column = 'x'", /unknown column no_such_column/],
    [`"Status" = 'x'`, /unknown column Status/],
    ["other.status = 'x'", /other\.status points outside the findings dataset/],
    ["resources.name = 'x'", /resources\.name points outside/],
    ["public.findings.status = 'x'", /public\.findings\.status is schema-qualified/],
    ['findings.* is null', /"\*" is not allowed/],
    ["status = 'x'; drop table findings", /statement separators/],
    ["a=1; drop table x", /statement separators/],
    ["status = 'x' -- trailing comment", /comments are not allowed: -- trailing comment/],
    ["status = /* hidden */ 'x'", /comments are not allowed: \/\* hidden \*\//],
    ["status = 'x' /* unterminated", /comments are not allowed/],
    ['status::regclass is null', /cast to regclass/],
    ['status::regrole is null', /cast to regrole/],
    ['status::regproc is null', /cast to regproc/],
    ['status::regnamespace is null', /cast to regnamespace/],
    ["status::pg_catalog.regclass is null", /cast to pg_catalog\.regclass/],
    ["status::interval is null", /cast to pg_catalog\.interval is not allowed/],
    ["status::public.text = 'x'", /cast to public\.text is not allowed/],
    ["status::no_such_type = 'x'", /cast to no_such_type is not allowed/],
    ["status::text[] is null", /cast to an array/],
    ["status::varchar(3) = 'x'", /type modifiers/],
    ["inserted_at::int > 1", /inserted_at \(timestamp\) cannot be cast to int4/],
    ["{{ current_user_id }}::int > 1", /\{\{ current_user_id \}\} \(id\) cannot be cast to int4/],
    ['status = $1', /parameter \$1 is not allowed/],
    ["row(status, region) = row('a', 'b')", /row constructors/],
    ["status = any(array['a'])", /ANY \(\.\.\.\) is not allowed/],
    ["array['a'] is null", /arrays/],
    ["status collate \"C\" = 'x'", /COLLATE/],
    ["case when muted then true else false end", /CASE expressions/],
    ["current_user = 'x'", /CURRENT_USER/],
    ["status ~ 'x'", /operator ~ is not allowed/],
    ["status ~~ 'x'", /operator ~~ is not allowed/],
    ["status operator(pg_catalog.=) 'x'", /qualified operator/],
    ["status similar to 'x'", /SIMILAR TO/],
    ["status is distinct from 'x'", /IS DISTINCT FROM/],
    ["status between symmetric 'a' and 'b'", /BETWEEN SYMMETRIC/],
    ["status like 'x!%' escape '!'", /LIKE \.\.\. ESCAPE is not allowed/],
    ['count(*) > 1', /count\(\.\.\.\) with \*/],
    ["lower(distinct status) = 'x'", /DISTINCT/],
    ["lower(x => status) = 'x'", /named function arguments/],
    ['muted is unknown', /IS \[NOT\] UNKNOWN/],
    ["status = B'101'", /bit-string/],
    ["status = 'a') or (true", /self-contained expression/],
    ["status", /must be a boolean expression, not status/],
    ["'x'", /must be a boolean expression/],
    ["status = 'x' and region", /operand of AND must be a boolean expression, not region/],
    ['status = 1', /cannot compare status \(text\) with 1 \(number\)/],
    ['lower(muted) = \'x\'', /lower\(\) expects a text value/],
    ["status = 'x' and", /not valid SQL: it ends unexpectedly/],
    ["status = = 'x'", /not valid SQL: syntax error/],
    ['', /empty/],
    ['   ', /empty/],
    ["status = 'x'\u0000) or (true", /NUL character/],
    [`status = '${'x'.repeat(4000)}'`, /longer than 4000 characters/],
  ];
  for (const [clause, detail] of refused) {
    it(`refuses ${clause.length > 60 ? `${clause.slice(0, 57)}...` : JSON.stringify(clause)}`, async () => {
      await assertRefused(clause, detail);
    });
  }

  it('treats an unknown dataset as a programming error, not a clause error', async () => {
    await assert.rejects(compileClause("status = 'x'", 'no_such_dataset'), (error: unknown) => {
      assert.ok(!(error instanceof ApiError));
      assert.match((error as Error).message, /unknown dataset "no_such_dataset"/);
      return true;
    });
  });
});

describe('compileClause: templates', () => {
  it('binds templates as numbered parameters and keeps their text out of the SQL', async () => {
    const compiled = await compileClause(
      'provider_id = {{ current_user_id }} or uid = {{current_user_email}} or scan_id = {{  current_tenant_id  }} or id = {{ current_user_id }}',
      'findings',
    );
    assert.deepEqual(compiled.params, ['current_user_id', 'current_user_email', 'current_tenant_id']);
    const bound = bindClause(compiled, { tableAlias: 'f', paramOffset: 2 });
    assert.equal(
      bound.sql,
      `(("f"."provider_id" = $3) OR ("f"."uid" = $4) OR ("f"."scan_id" = $5) OR ("f"."id" = $3))`,
    );
    assert.deepEqual(bound.params, ['current_user_id', 'current_user_email', 'current_tenant_id']);
    assert.doesNotMatch(bound.sql, /\{\{|current_user|current_tenant/);
  });

  it('accepts a template wherever a constant may stand', async () => {
    assert.equal(
      await boundSql("uid in ({{ current_user_email }}, 'x') and lower({{ current_user_email }}) like '%@example.com'"),
      `(("f"."uid" IN ($1, 'x')) AND (pg_catalog.lower($1) LIKE '%@example.com'))`,
    );
    assert.equal(await boundSql('id={{current_user_id}}'), `("f"."id" = $1)`);
    assert.equal(await boundSql("region = 'é€' and id = {{ current_user_id }}"), `(("f"."region" = 'é€') AND ("f"."id" = $1))`);
  });

  it('compiles a clause without templates to no parameters', async () => {
    const compiled = await compileClause("status = 'FAIL'", 'findings');
    assert.deepEqual(compiled.params, []);
    assert.deepEqual(bindClause(compiled, { tableAlias: 'f', paramOffset: 7 }).params, []);
  });

  it('refuses unknown templates, templates inside quotes and templates used as booleans or numbers', async () => {
    await assertRefused('status = {{ current_role }}', /unknown template \{\{ current_role \}\}/);
    await assertRefused("uid = '{{ current_user_id }}'", /template \{\{ current_user_id \}\} must stand where a value is expected/);
    await assertRefused('uid = $$ {{ current_user_id }} $$', /must stand where a value is expected/);
    await assertRefused('{{ current_user_id }}', /must be a boolean expression/);
    await assertRefused('muted = {{ current_user_id }}', /cannot compare muted \(boolean\)/);
    await assertRefused('abs({{ current_user_id }}) = 1', /abs\(\) expects a number value/);
    await assertRefused('id = {{ current_user_email }}', /cannot compare id \(uuid\) with \{\{ current_user_email \}\} \(text\)/);
  });

  it('refuses a hand-written parameter even next to a template', async () => {
    await assertRefused('id = {{ current_user_id }} or id = $2', /parameter \$2 is not allowed/);
    await assertRefused('id = {{ current_user_id }} or id = $1', /parameter \$1 is not allowed/);
  });
});

describe('bindClause', () => {
  it('quotes the table alias as an identifier', async () => {
    const compiled = await compileClause("status = 'x'", 'findings');
    assert.equal(bindClause(compiled, { tableAlias: 'my "f"', paramOffset: 0 }).sql, `("my ""f"""."status" = 'x')`);
  });

  it('refuses a negative or fractional parameter offset', async () => {
    const compiled = await compileClause('id = {{ current_user_id }}', 'findings');
    assert.throws(() => bindClause(compiled, { tableAlias: 'f', paramOffset: -1 }), RangeError);
    assert.throws(() => bindClause(compiled, { tableAlias: 'f', paramOffset: 1.5 }), RangeError);
  });
});

describe('joinClauses', () => {
  it('joins with the operator, merges parameters and returns a single clause as is', async () => {
    const a = await compileClause('id = {{ current_user_id }}', 'findings');
    const b = await compileClause('uid = {{ current_user_email }} or provider_id = {{ current_user_id }}', 'findings');
    assert.equal(joinClauses([a], 'AND'), a);
    const joined = joinClauses([a, b], 'OR');
    assert.deepEqual(joined.params, ['current_user_id', 'current_user_email']);
    assert.equal(
      bindClause(joined, { tableAlias: 'f', paramOffset: 1 }).sql,
      `(("f"."id" = $2) OR (("f"."uid" = $3) OR ("f"."provider_id" = $2)))`,
    );
    assert.throws(() => joinClauses([], 'AND'), RangeError);
  });
});
