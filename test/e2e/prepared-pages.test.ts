import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { adminClient } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';
import { buildFindingsWorld, FindingsWorld } from '../support/findings-world';
import { MAX_PREPARED_PER_CONNECTION, preparedRows } from '../../src/database/sql';
import { TenantDatabase } from '../../src/database/tenant-database';

/**
 * The findings page is a statement prepared on its connection, and after its
 * first calls PostgreSQL runs it from one generic plan instead of planning
 * every call again (which cost as much as the read). Read from
 * pg_prepared_statements of the API's only pooled read connection.
 */
describe('prepared findings pages', () => {
  let admin: Client;
  let app: TestApp;
  let world: FindingsWorld;
  let database: DataSource;
  /** The pool read-only requests use (the primary here: no standby is configured). */
  let reads: DataSource;

  before(async () => {
    admin = await adminClient();
    app = await startTestApp({ DATABASE_POOL_SIZE: '1' });
    world = await buildFindingsWorld(app, admin, 'prepared', 300);
    database = app.app.get(DataSource);
    reads = app.app.get(TenantDatabase).replica;
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  async function pageStatements(): Promise<Array<{ statement: string; generic_plans: number; custom_plans: number }>> {
    return reads.query(
      `SELECT statement, generic_plans::int, custom_plans::int FROM pg_prepared_statements
        WHERE statement LIKE '%FROM findings f%' AND statement LIKE '%check_metadata%'`,
    );
  }

  it('the first page and cursor pages run from a generic plan after their first calls', async () => {
    const query = 'filter[severity__in]=critical,high&filter[status]=FAIL&page[size]=7';
    for (let call = 0; call < 8; call++) {
      const cursor = await world.owner.client.get(`/api/v1/findings?${query}&page[cursor]=`);
      assert.equal(cursor.status, 200, JSON.stringify(cursor.body));
      assert.equal(cursor.body.data.length, 7);
      const numbered = await world.owner.client.get(`/api/v1/findings?${query}`);
      assert.equal(numbered.status, 200, JSON.stringify(numbered.body));
      assert.equal(numbered.body.data.length, 7);
    }
    const statements = await pageStatements();
    // One statement per page size read (8 rows for a cursor page, 7 for the numbered one), each planned
    // for its first five calls, then run from its generic plan.
    assert.equal(statements.length, 2, JSON.stringify(statements));
    for (const statement of statements) {
      assert.match(statement.statement, /LIMIT [78]\)/);
      assert.ok(statement.generic_plans >= 3 && statement.custom_plans <= 5, JSON.stringify(statement));
    }
  });

  it('a later numbered page keeps its offset a parameter, so page numbers add no statements', async () => {
    const before = (await pageStatements()).length;
    for (const page of [2, 3, 4, 5]) {
      const answer = await world.owner.client.get(`/api/v1/findings?filter[status]=FAIL&page[size]=5&page[number]=${page}`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    }
    assert.equal((await pageStatements()).length, before + 1);
  });

  it('findings included by id share one statement, whatever their number', async () => {
    const byIds = async () => (await reads.query(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE '%f.id = ANY(%'`))[0].n as number;
    const included = new Set<number>();
    for (const size of [1, 2, 3, 4]) {
      const answer = await world.owner.client.get(`/api/v1/resources?include=findings&page[size]=${size}`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      included.add((answer.body.included ?? []).filter((item: { type: string }) => item.type === 'findings').length);
    }
    assert.ok(included.size > 1, `the pages included different numbers of findings: ${[...included]}`);
    assert.equal(await byIds(), 1);
  });

  it('a connection keeps at most MAX_PREPARED_PER_CONNECTION statements; past it, new texts still answer', async () => {
    await database.transaction(async (manager) => {
      const held = (await manager.query(`SELECT count(*)::int AS n FROM pg_prepared_statements`))[0].n as number;
      const texts = MAX_PREPARED_PER_CONNECTION + 20 - held;
      for (let index = 0; index < texts; index++) {
        const [row] = await preparedRows<{ n: number }>(manager, `SELECT $1::int + ${index} AS n`, [1]);
        assert.equal(row.n, index + 1);
      }
      const after = (await manager.query(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE NOT from_sql`))[0].n as number;
      assert.ok(after <= MAX_PREPARED_PER_CONNECTION, `${after} statements prepared`);
    });
  });
});
