import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from 'pg';
import type { EntityManager } from 'typeorm';
import { tenantManager } from '../../src/database/tenant-context';
import { TenantDatabase } from '../../src/database/tenant-database';
import { FindingReadCache } from '../../src/findings/query/finding-read-cache';
import { SqlConditions } from '../../src/findings/query/sql-conditions';
import { startApiProcess } from '../support/api-process';
import { adminClient } from '../support/database';
import { generateRecords } from '../support/finding-generator';
import { ingestScan, insertProvider, insertScan } from '../support/findings-fixtures';
import { ApiClient, signUp, type SignedUpUser } from '../support/http-client';
import type { TestApp } from '../support/test-app';
import { addMember, createRule, insertRole, principal, startRulesApp } from './rls-rules-fixtures';

/*
 * Reads the pre-computed tables cannot answer (here: under a row filter
 * rule: counts, overviews, compliance) are remembered between requests. What
 * must hold: a remembered answer is never older than the data, whatever
 * changed it (new findings, mutes, a deleted provider) and whichever process
 * served the change; and a repeated question really is answered without
 * computing it again.
 */
describe('remembered finding reads', () => {
  let app: TestApp;
  let admin: Client;
  let owner: SignedUpUser;
  let analyst: SignedUpUser;
  let roleId: string;
  const providers: Record<'aws' | 'gcp', string> = { aws: '', gcp: '' };
  let scanTime = Date.now() - 3600_000;

  const RULE = "region LIKE 'eu-%' OR severity = 'critical'";
  /** The rule as a condition on findings aliased f, for the owner's own counts. */
  const RULE_ON_F = RULE.replace(/\b(region|severity)\b/g, 'f.$1');
  const PAGE = '/api/v1/findings?filter[status]=FAIL&page[size]=1';

  before(async () => {
    app = await startRulesApp();
    admin = await adminClient();
    owner = await signUp(app.baseUrl, 'count-cache');
    roleId = await insertRole(admin, owner.tenantId, 'eu-analyst', ['unlimited_visibility']);
    analyst = await addMember(app.baseUrl, admin, owner.tenantId, 'count-cache-analyst', [roleId]);
    await createRule(owner.client, { clause: RULE, roles: [roleId], tables: ['findings'] });
    providers.aws = await insertProvider(admin, owner.tenantId, 'aws');
    providers.gcp = await insertProvider(admin, owner.tenantId, 'aws');
    await newScan('aws', 0);
    await newScan('gcp', 0);
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  const latestScan: Record<'aws' | 'gcp', string> = { aws: '', gcp: '' };

  async function newScan(which: 'aws' | 'gcp', scanIndex: number): Promise<void> {
    const startedAt = new Date((scanTime += 60_000));
    const scanId = await insertScan(admin, owner.tenantId, providers[which], startedAt);
    latestScan[which] = scanId;
    await ingestScan(app, { tenantId: owner.tenantId, scanId, providerId: providers[which], scanStartedAt: startedAt }, generateRecords({ providerKey: `cache-${which}`, count: 300, scanIndex }));
  }

  /** What the analyst may see, counted directly by the owner role. */
  async function expected(extra = 'true'): Promise<number> {
    const found = await admin.query(
      `SELECT count(*)::int AS n FROM findings f JOIN providers p ON p.id = f.provider_id
        WHERE f.tenant_id = $1 AND p.deleted_at IS NULL AND f.status = 'FAIL' AND (${RULE_ON_F}) AND ${extra}`,
      [owner.tenantId],
    );
    return found.rows[0].n;
  }

  async function served(client: ApiClient, path = PAGE): Promise<number> {
    const page = await client.get(path);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.equal(page.body.meta.pagination.count_exact, true);
    return page.body.meta.pagination.count;
  }

  it('follows new findings, mutes and a deleted provider at once', async () => {
    const initial = await expected();
    assert.ok(initial > 1 && initial < 600, `a rule that leaves part of the rows (${initial})`);
    assert.equal(await served(analyst.client), initial);
    assert.equal(await served(analyst.client), initial, 'asked again');
    assert.equal(await served(analyst.client, `${PAGE}&filter[muted]=false`), initial);

    await newScan('aws', 1);
    assert.ok((await expected()) > initial);
    assert.equal(await served(analyst.client), await expected(), 'after a new scan');
    assert.equal(await served(analyst.client, `${PAGE}&filter[muted]=false`), await expected('NOT f.muted'), 'remembered before the mute');

    const targets = await admin.query(
      `SELECT f.id FROM findings f WHERE f.provider_id = $1 AND f.status = 'FAIL' AND (${RULE_ON_F}) LIMIT 3`,
      [providers.gcp],
    );
    const muted = await owner.client.post('/api/v1/mute-rules', {
      data: { type: 'mute-rules', attributes: { name: 'cache test', reason: 'accepted', finding_ids: targets.rows.map((t) => t.id) } },
    });
    assert.equal(muted.status, 201, JSON.stringify(muted.body));
    assert.ok((await expected('NOT f.muted')) < (await expected()));
    assert.equal(await served(analyst.client, `${PAGE}&filter[muted]=false`), await expected('NOT f.muted'), 'after a mute');

    const gone = await owner.client.delete(`/api/v1/providers/${providers.gcp}`);
    assert.equal(gone.status, 202, JSON.stringify(gone.body));
    const left = await expected(`f.provider_id = '${providers.aws}'`);
    assert.equal(await served(analyst.client), left, 'after the provider is deleted');
  });

  it('a change served by one API process holds on the next count served by another', async () => {
    const other = await startApiProcess({ LOG_LEVEL: 'silent' });
    try {
      const remote = new ApiClient(other.baseUrl, analyst.access);
      const path = `${PAGE}&filter[muted]=false&filter[provider]=${providers.aws}`;
      const before = await served(remote, path);
      assert.equal(await served(remote, path), before);
      const overviewPath = `/api/v1/overviews/findings?filter[provider]=${providers.aws}`;
      const compliancePath = `/api/v1/compliance-overviews?filter[scan_id]=${latestScan.aws}&page[size]=100`;
      const overviewBefore = (await remote.get(overviewPath)).body.data.attributes;
      const complianceBefore = (await remote.get(compliancePath)).body;
      assert.deepEqual((await remote.get(overviewPath)).body.data.attributes, overviewBefore, 'asked again');
      const target = await admin.query(
        `SELECT f.id FROM findings f WHERE f.provider_id = $1 AND f.status = 'FAIL' AND NOT f.muted AND (${RULE_ON_F}) LIMIT 2`,
        [providers.aws],
      );
      const muted = await owner.client.post('/api/v1/mute-rules', {
        data: { type: 'mute-rules', attributes: { name: 'cross-process', reason: 'accepted', finding_ids: target.rows.map((t) => t.id) } },
      });
      assert.equal(muted.status, 201, JSON.stringify(muted.body));
      const now = await expected(`NOT f.muted AND f.provider_id = '${providers.aws}'`);
      assert.ok(now < before, 'the mute hid some of the counted rows');
      assert.equal(await served(remote, path), now);

      // A rule-filtered caller's overview and compliance of the same scans, recomputed after the mute.
      const mutedInLatest = await admin.query(
        `SELECT count(*)::int AS n FROM findings f WHERE f.scan_id = $1 AND f.muted AND (${RULE_ON_F})`,
        [latestScan.aws],
      );
      const overviewAfter = (await remote.get(overviewPath)).body.data.attributes;
      assert.ok(mutedInLatest.rows[0].n > overviewBefore.muted);
      assert.equal(overviewAfter.muted, mutedInLatest.rows[0].n);
      assert.equal(overviewAfter.total, overviewBefore.total);
      const complianceAfter = await remote.get(compliancePath);
      assert.equal(complianceAfter.status, 200, JSON.stringify(complianceAfter.body));
      assert.notDeepEqual(complianceAfter.body, complianceBefore);
    } finally {
      await other.stop();
    }
  });

  /** Runs the cache for the analyst's principal with a manager that records every plain query (the count) it sends. */
  async function countThroughCache(conditionsFor: () => SqlConditions, tenantId = owner.tenantId): Promise<{ count: number; counted: boolean }> {
    const cache = app.app.get(FindingReadCache);
    return app.app.get(TenantDatabase).transaction(
      tenantId,
      async () => {
        const manager = tenantManager();
        let counted = false;
        const recording = new Proxy(manager, {
          get(target, property, receiver) {
            if (property !== 'query') return Reflect.get(target, property, receiver);
            return (sql: string, params?: unknown[]) => {
              if (/count\(\*\)/.test(sql)) counted = true;
              return target.query(sql, params);
            };
          },
        }) as EntityManager;
        const result = await cache.count(recording, conditionsFor(), []);
        return { count: result.count, counted };
      },
      { principal: principal(tenantId, [roleId]), readOnly: true },
    );
  }

  it('answers a repeated count without counting, and counts again only when the covered providers change', async () => {
    const awsOnly = () => new SqlConditions().add(`f.provider_id = '${providers.aws}'`).add("f.check_id LIKE 'ec2%'");
    const first = await countThroughCache(awsOnly);
    assert.equal(first.counted, true);
    assert.equal(first.count, (await admin.query(`SELECT count(*)::int AS n FROM findings WHERE provider_id = $1 AND check_id LIKE 'ec2%'`, [providers.aws])).rows[0].n);
    assert.deepEqual(await countThroughCache(awsOnly), { count: first.count, counted: false });

    const third = await insertProvider(admin, owner.tenantId, 'aws');
    const startedAt = new Date((scanTime += 60_000));
    const scanId = await insertScan(admin, owner.tenantId, third, startedAt);
    await ingestScan(app, { tenantId: owner.tenantId, scanId, providerId: third, scanStartedAt: startedAt }, generateRecords({ providerKey: 'cache-third', count: 60 }));
    assert.equal((await countThroughCache(awsOnly)).counted, true, 'a new provider widens the scope the count was taken over');
    assert.equal((await countThroughCache(awsOnly)).counted, false);

    await newScan('aws', 2);
    const recounted = await countThroughCache(awsOnly);
    assert.equal(recounted.counted, true, 'new findings of a covered provider');
    assert.ok(recounted.count > first.count);

    const stranger = await signUp(app.baseUrl, 'count-cache-stranger');
    assert.deepEqual(await countThroughCache(awsOnly, stranger.tenantId), { count: 0, counted: true }, 'another tenant never gets this tenant’s entry');
  });
  it('counts once for requests that miss the same entry together', async () => {
    // The initplan's sleep keeps the first count running while the others arrive.
    const slowCount = () =>
      new SqlConditions().add(`f.provider_id = '${providers.gcp}'`).add("f.check_id LIKE 's3%'").add('(SELECT true FROM pg_sleep(0.3))');
    const together = await Promise.all(Array.from({ length: 4 }, () => countThroughCache(slowCount)));
    assert.equal(together.filter((r) => r.counted).length, 1, 'one of the four counted; the others waited for its answer');
    const expected = (await admin.query(`SELECT count(*)::int AS n FROM findings WHERE provider_id = $1 AND check_id LIKE 's3%'`, [providers.gcp])).rows[0].n;
    assert.deepEqual(new Set(together.map((r) => r.count)), new Set([expected]));
    assert.deepEqual(await countThroughCache(slowCount), { count: expected, counted: false });
  });
  it('findings metadata, remembered, follows new findings of the providers it covers, from the list and from the latest scans', async () => {
    const provider = await insertProvider(admin, owner.tenantId, 'aws');
    const paths = [`/api/v1/findings/metadata?filter[provider]=${provider}`, `/api/v1/findings/metadata/latest?filter[provider]=${provider}`];
    const servicesServed = async () => Promise.all(paths.map(async (path) => (await owner.client.get(path)).body.data.attributes.services));
    assert.deepEqual(await servicesServed(), [[], []]);
    assert.deepEqual(await servicesServed(), [[], []], 'asked again');

    const startedAt = new Date((scanTime += 60_000));
    const scanId = await insertScan(admin, owner.tenantId, provider, startedAt);
    await ingestScan(app, { tenantId: owner.tenantId, scanId, providerId: provider, scanStartedAt: startedAt }, generateRecords({ providerKey: 'cache-metadata', count: 90 }));
    const { rows } = await admin.query(`SELECT array_agg(DISTINCT service ORDER BY service) AS services FROM findings WHERE provider_id = $1`, [provider]);
    assert.ok(rows[0].services.length > 0);
    assert.deepEqual(await servicesServed(), [rows[0].services, rows[0].services]);
  });
  it('resource counts and metadata, remembered for every caller, follow new resources of a provider already counted', async () => {
    const path = `/api/v1/resources?filter[provider]=${providers.aws}&page[size]=1`;
    const metadataPath = `/api/v1/resources/metadata?filter[provider]=${providers.aws}`;
    const truth = async () => {
      const found = await admin.query(
        `SELECT count(*)::int AS n, array_agg(DISTINCT type ORDER BY type) AS types FROM resources WHERE provider_id = $1`,
        [providers.aws],
      );
      return found.rows[0] as { n: number; types: string[] };
    };
    const before = await truth();
    assert.equal(await served(owner.client, path), before.n);
    assert.equal(await served(owner.client, path), before.n, 'asked again');
    assert.deepEqual((await owner.client.get(metadataPath)).body.data.attributes.types, before.types);

    const startedAt = new Date((scanTime += 60_000));
    const scanId = await insertScan(admin, owner.tenantId, providers.aws, startedAt);
    await ingestScan(app, { tenantId: owner.tenantId, scanId, providerId: providers.aws, scanStartedAt: startedAt }, generateRecords({ providerKey: 'cache-aws-elsewhere', count: 120 }));
    const after = await truth();
    assert.ok(after.n > before.n, 'the scan brought resources of its own');
    assert.equal(await served(owner.client, path), after.n);
    assert.deepEqual((await owner.client.get(metadataPath)).body.data.attributes.types, after.types);
  });
});
