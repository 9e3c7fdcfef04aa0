import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { LocalAppModule } from '../../src/local-app.module';
import { uniqueName } from '../support/access-fixtures';
import { ApiOperation, apiOperations } from '../support/api-operations';
import { adminClient } from '../support/database';
import { HttpResult } from '../support/http-client';
import { fixtureFindings, newSpoolDir, uploadImport } from '../support/scans-fixture';
import { fastQueueEnv } from '../support/tasks-fixture';
import { SlackServer, slackTestEnv, startSlackServer } from '../support/integration-servers';
import { PROWLER_COMPLIANCE_DIR } from '../support/prowler-compliance';
import { writeCheckDefinitions } from '../support/check-definitions';
import { buildTenantWorld, TenantWorld, worldCheckDefinitions } from '../support/tenant-world';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Tenant A's owner (every permission, every provider) walks every operation
 * the app serves with tenant B's real ids: in the path, in each id-like
 * filter, and in each relationship or id attribute a body takes. Operations,
 * filters and relationships are discovered from the running app, so an
 * endpoint added later is walked too. Whatever the endpoint:
 * - an answer never contains any of B's ids, uids, emails or tokens;
 * - an id of B in the path is 403 or 404, as for a missing one;
 * - B's rows are the same afterwards as before.
 */

/** Relationship names a body may carry; the server tells which it takes and their types. */
const RELATIONSHIP_NAMES = ['provider', 'providers', 'provider_groups', 'role', 'roles', 'users', 'scan', 'findings', 'resources', 'tenant', 'memberships', 'invitations'];
/** Filters whose values are ids or other identifying strings even where not typed uuid. */
const ID_LIKE_FILTER = /(^|_)(id|ids|uid)$|^(provider|scan|user|role|tenant|inviter|created_by|resource|finding|task|group|provider_groups?|roles?|users?)$/;

const STATIC_AWS = { aws_access_key_id: 'AKIAWALKINGTENANTA01', aws_secret_access_key: 'walking-secret-value' };

type Ids = TenantWorld['ids'];

/** B's ids of one resource type, for a relationship of that type. */
function idsOfType(ids: Ids, type: string): string[] {
  const byType: Record<string, string[]> = {
    providers: [ids.provider],
    'provider-secrets': [ids.secret],
    'provider-groups': [ids.group],
    roles: [ids.role, ids.adminRole],
    users: [ids.ownerUser, ids.memberUser],
    scans: [ids.scan],
    findings: ids.findings,
    resources: ids.resources,
    tasks: ids.tasks,
    tenants: [ids.tenant],
    memberships: [ids.ownerMembership, ids.memberMembership],
    invitations: [ids.invitation],
    'mute-rules': [ids.muteRule],
    'rls-rules': [ids.rlsRule],
    integrations: [ids.integration],
  };
  return byType[type] ?? [];
}

/** One id of each kind: what a path parameter or an id filter is tried with. */
function oneOfEach(ids: Ids): string[] {
  return [ids.tenant, ids.ownerUser, ids.memberUser, ids.ownerMembership, ids.provider, ids.secret, ids.scan, ids.findings[0], ids.resources[0], ids.group, ids.role, ids.adminRole, ids.invitation, ids.muteRule, ids.rlsRule, ids.integration, ids.tasks[0]];
}

/** Valid attributes for a body of `type`, some holding B's ids where the attribute is an id. */
function attributesFor(type: string, operation: ApiOperation, b: TenantWorld): Record<string, unknown> {
  switch (type) {
    case 'roles':
    case 'provider-groups':
    case 'tenants':
      return { name: uniqueName('walk') };
    case 'provider-secrets':
      return operation.method === 'POST' ? { secret_type: 'static', secret: STATIC_AWS } : { name: uniqueName('walk') };
    case 'invitations':
      return operation.path.endsWith('/accept') ? { invitation_token: b.invitationToken } : { email: `${uniqueName('walk')}@example.com` };
    case 'rls-rules':
      return { name: uniqueName('walk'), filter_type: 'Regular', clause: "severity <> 'low'" };
    case 'mute-rules':
      return operation.method === 'POST' ? { name: uniqueName('walk'), reason: 'walking the endpoints', finding_ids: b.ids.findings } : { name: uniqueName('walk') };
    case 'daily-schedules':
      return { provider_id: b.ids.provider };
    case 'tokens-switch-tenant':
      return { tenant_id: b.ids.tenant };
    case 'providers':
      return operation.method === 'POST' ? { provider: 'aws', uid: String(100000000000 + Math.floor(Math.random() * 899999999999)) } : { alias: uniqueName('walk') };
    case 'scans':
    case 'users':
      return operation.method === 'PATCH' ? { name: uniqueName('walk') } : {};
    default:
      return {};
  }
}

/** Relationships a valid body of `type` must carry besides the one being tried. */
function requiredRelationships(type: string): Record<string, unknown> {
  return type === 'rls-rules' ? { roles: { data: [] }, tables: { data: [{ type: 'rls-tables', id: 'findings' }] } } : {};
}

/** The type a JSON:API error says a body must have, when it says so. */
function requiredType(result: HttpResult, pointer: string): string | undefined {
  const error = result.body?.errors?.find((e: { source?: { pointer?: string } }) => e.source?.pointer === pointer);
  return error ? /must be '([^']+)'/.exec(error.detail)?.[1] : undefined;
}

describe('tenant A reaches none of tenant B’s objects through any endpoint', () => {
  let app: TestApp;
  let slack: SlackServer;
  let admin: Client;
  let a: TenantWorld;
  let b: TenantWorld;
  let operations: ApiOperation[];
  const spoolDir = newSpoolDir('walk');
  const checks = writeCheckDefinitions(worldCheckDefinitions());
  const reportsDir = mkdtempSync(join(tmpdir(), 'cspm-walk-reports-'));
  const leaks: string[] = [];
  let calls = 0;

  /** A's own id for a path parameter, judged by the collection it follows; undefined when unknown. */
  function ownIdFor(path: string, parameter: string): string | undefined {
    const before = path.slice(0, path.indexOf(`{${parameter}}`)).replace(/\/$/, '');
    const collection = before.replace(/\{[^}]+\}/g, '{}');
    const own: Record<string, string> = {
      '/api/v1/roles': a.ids.role,
      '/api/v1/provider-groups': a.ids.group,
      '/api/v1/providers': a.ids.provider,
      '/api/v1/providers/secrets': a.ids.secret,
      '/api/v1/tenants/invitations': a.ids.invitation,
      '/api/v1/mute-rules': a.ids.muteRule,
      '/api/v1/rls-rules': a.ids.rlsRule,
      '/api/v1/scans': a.ids.scan,
      '/api/v1/users': a.ids.memberUser,
      '/api/v1/tenants': a.ids.tenant,
      '/api/v1/tenants/{}/memberships': a.ids.memberMembership,
      '/api/v1/tasks': a.ids.tasks[0],
      '/api/v1/findings': a.ids.findings[0],
      '/api/v1/resources': a.ids.resources[0],
      '/api/v1/integrations': a.ids.integration,
    };
    return own[collection];
  }

  const parameters = (path: string) => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  const fill = (path: string, values: Record<string, string>) => path.replace(/\{([^}]+)\}/g, (_, name: string) => values[name]);

  /** Sends a call as A; records any answer that holds something of B's (beyond echoing what the call itself sent). */
  async function call(method: string, path: string, body?: unknown): Promise<HttpResult> {
    calls += 1;
    const result = await a.owner.client.request(method, path, body);
    const text = (typeof result.body === 'string' ? result.body : JSON.stringify(result.body ?? '')).toLowerCase();
    const sent = `${path} ${JSON.stringify(body ?? '')}`.toLowerCase();
    const found = b.needles.find((needle) => text.includes(needle.toLowerCase()) && !sent.includes(needle.toLowerCase()));
    if (found) leaks.push(`${method} ${path} ${JSON.stringify(body ?? '').slice(0, 160)} -> ${result.status} holds ${found}`);
    return result;
  }

  async function inBatches<T>(items: T[], run: (item: T) => Promise<void>): Promise<void> {
    for (let start = 0; start < items.length; start += 6) await Promise.all(items.slice(start, start + 6).map(run));
  }

  /** Fingerprints of every row of B's tenant, table by table (partitions through their parent). */
  async function fingerprintOfB(): Promise<Record<string, string>> {
    const { rows: tables } = await admin.query<{ table_name: string }>(
      `SELECT c.relname AS table_name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
        ORDER BY 1`,
    );
    const prints: Record<string, string> = {};
    for (const { table_name: table } of tables) {
      const { rows } = await admin.query(`SELECT count(*)::int AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS h FROM ${table} t WHERE tenant_id = $1`, [b.tenantId]);
      prints[table] = `${rows[0].n}:${rows[0].h}`;
    }
    const tenant = await admin.query(`SELECT t::text AS row FROM tenants t WHERE id = $1`, [b.tenantId]);
    prints.tenants = tenant.rows[0].row;
    const users = await admin.query(`SELECT string_agg(u::text, '|' ORDER BY u.id) AS rows FROM users u WHERE id = ANY($1::uuid[])`, [[b.ids.ownerUser, b.ids.memberUser]]);
    prints.users = users.rows[0].rows;
    return prints;
  }

  let fingerprintBefore: Record<string, string>;

  before(async () => {
    admin = await adminClient();
    slack = await startSlackServer();
    app = await startTestApp({ ...fastQueueEnv('walk'), ...slackTestEnv(slack), WORKERS_IN_PROCESS: 'true', SCAN_SPOOL_DIR: spoolDir, REPORTS_DIR: reportsDir, PROWLER_COMPLIANCE_DIR, PROWLER_CHECKS_DIR: checks.dir }, LocalAppModule);
    b = await buildTenantWorld(app, 'walk-b');
    a = await buildTenantWorld(app, 'walk-a');
    operations = await apiOperations(app);
    fingerprintBefore = await fingerprintOfB();
  });
  after(async () => {
    await slack.close();
    await admin.end();
    await app.close();
    rmSync(spoolDir, { recursive: true, force: true });
    rmSync(reportsDir, { recursive: true, force: true });
    checks.remove();
  });

  it('finds the operations and the id filters to walk', () => {
    assert.ok(operations.length > 80, `${operations.length} operations`);
    const withIdFilters = operations.filter((o) => Object.keys(o.query?.filters ?? {}).some((f) => ID_LIKE_FILTER.test(f)));
    assert.ok(withIdFilters.length >= 10, `${withIdFilters.map((o) => o.path).join(', ')}`);
    assert.ok(b.needles.length > 20);
  });

  it('B’s ids in the path are 403 or 404 on every operation that takes one', async () => {
    const wrong: string[] = [];
    const cases = operations.filter((o) => o.path.includes('{')).flatMap((operation) => oneOfEach(b.ids).map((id) => ({ operation, id })));
    await inBatches(cases, async ({ operation, id }) => {
      const values = Object.fromEntries(parameters(operation.path).map((p) => [p, id]));
      // Where a path has several parameters, also A's own for all but the last.
      const variants = [values];
      const names = parameters(operation.path);
      if (names.length > 1) {
        const mixed = { ...values };
        for (const name of names.slice(0, -1)) mixed[name] = ownIdFor(operation.path, name) ?? id;
        variants.push(mixed);
      }
      for (const variant of variants) {
        const path = fill(operation.path, variant);
        const body = ['GET', 'DELETE'].includes(operation.method) ? undefined : await bodyFor(operation, id);
        const result = await call(operation.method, path, body);
        // The SAML assertion consumer is public and keyed by an email domain: anything else is a refused sign-in (401).
        const refusals = operation.path.startsWith('/api/v1/accounts/saml/') ? [401, 403, 404] : [403, 404];
        if (!refusals.includes(result.status)) wrong.push(`${operation.method} ${path} -> ${result.status} ${JSON.stringify(result.body).slice(0, 200)}`);
      }
    });
    assert.deepEqual(wrong, []);
  });

  it('B’s ids in id-like filters find nothing of B', async () => {
    const wrong: string[] = [];
    const cases: Array<{ operation: ApiOperation; query: string }> = [];
    for (const operation of operations.filter((o) => o.method === 'GET' && o.query?.filters)) {
      for (const [name, spec] of Object.entries(operation.query!.filters!)) {
        if (spec.type !== 'uuid' && !ID_LIKE_FILTER.test(name)) continue;
        if (spec.type === 'enum' || spec.type === 'boolean' || spec.type === 'datetime' || spec.type === 'integer') continue;
        const values = spec.type === 'uuid' ? oneOfEach(b.ids) : [b.providerUid, ...oneOfEach(b.ids)];
        // One read with every id where the filter takes a list; otherwise one per kind of id.
        if (spec.operators.includes('in')) cases.push({ operation, query: `filter[${name}__in]=${[b.providerUid, ...b.needles.filter((n) => /^[0-9a-f-]{36}$/.test(n))].join(',')}` });
        else if (spec.operators.includes('eq')) for (const value of values) cases.push({ operation, query: `filter[${name}]=${encodeURIComponent(value)}` });
      }
    }
    assert.ok(cases.length > 50, `${cases.length} filtered reads`);
    await inBatches(cases, async ({ operation, query }) => {
      const names = parameters(operation.path);
      const values = Object.fromEntries(names.map((name) => [name, ownIdFor(operation.path, name)]));
      if (Object.values(values).some((v) => v === undefined)) return;
      const path = `${fill(operation.path, values as Record<string, string>)}?${query}`;
      const result = await call('GET', path);
      if (result.status >= 500) wrong.push(`GET ${path} -> ${result.status}`);
      else if (result.status < 300 && Array.isArray(result.body?.data) && result.body.data.some((item: { id?: string }) => item.id && b.needles.includes(item.id))) {
        wrong.push(`GET ${path} lists B's objects`);
      }
    });
    assert.deepEqual(wrong, []);
  });

  /**
   * A body for an operation: its type learnt from the server (a 409 names
   * the type it wants), valid attributes, and no relationships; `id` the
   * path id it is sent with. Relationship endpoints take identifiers.
   */
  const bodyTypes = new Map<string, string | null>();
  async function resourceType(operation: ApiOperation, path: string, id?: string): Promise<string | null> {
    const key = `${operation.method} ${operation.path}`;
    if (!bodyTypes.has(key)) {
      const relationshipEndpoint = /\/relationships\/[^/]+$/.test(operation.path);
      // The rules' body reads its required `tables` before the type, so every probe carries one (others refuse the type first).
      const probe = relationshipEndpoint
        ? { data: [{ type: 'walk-probe', id: randomUUID() }] }
        : { data: { type: 'walk-probe', ...(id ? { id } : {}), relationships: requiredRelationships('rls-rules') } };
      const result = await a.owner.client.request(operation.method, path, probe);
      bodyTypes.set(key, requiredType(result, relationshipEndpoint ? '/data/0/type' : '/data/type') ?? null);
    }
    return bodyTypes.get(key) ?? null;
  }

  async function bodyFor(operation: ApiOperation, pathId: string): Promise<unknown> {
    const path = fill(operation.path, Object.fromEntries(parameters(operation.path).map((p) => [p, pathId])));
    const type = await resourceType(operation, path, pathId);
    if (/\/relationships\/[^/]+$/.test(operation.path)) return { data: type ? idsOfType(a.ids, type).map((id) => ({ type, id })) : [] };
    if (!type) return {};
    const hasId = parameters(operation.path).length > 0 && operation.method !== 'POST';
    return { data: { type, ...(hasId ? { id: pathId } : {}), attributes: attributesFor(type, operation, b), relationships: requiredRelationships(type) } };
  }

  it('B’s ids in the relationships and id attributes of bodies are refused or change nothing', async () => {
    const wrong: string[] = [];
    const mutating = operations.filter((o) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(o.method));
    let probed = 0;
    for (const operation of mutating) {
      const names = parameters(operation.path);
      const values = Object.fromEntries(names.map((name) => [name, ownIdFor(operation.path, name)]));
      if (Object.values(values).some((v) => v === undefined)) continue;
      const path = fill(operation.path, values as Record<string, string>);
      const pathId = names.length ? (values[names[names.length - 1]] as string) : undefined;
      // A DELETE takes a body only on a relationship endpoint; any other would delete A's own object.
      if (operation.method === 'DELETE' && !/\/relationships\/[^/]+$/.test(operation.path)) continue;
      const type = await resourceType(operation, path, operation.method === 'POST' ? undefined : pathId);
      if (!type) continue;
      const bodies: unknown[] = [];
      if (/\/relationships\/[^/]+$/.test(operation.path)) {
        bodies.push({ data: idsOfType(b.ids, type).map((id) => ({ type, id })) });
      } else {
        const base = { type, ...(pathId && operation.method !== 'POST' ? { id: pathId } : {}), attributes: attributesFor(type, operation, b) };
        bodies.push({ data: { ...base, relationships: requiredRelationships(type) } });
        for (const name of RELATIONSHIP_NAMES) {
          // Learn whether the body takes this relationship, whether to-many, and its type.
          const many = await a.owner.client.request(operation.method, path, { data: { ...base, relationships: { ...requiredRelationships(type), [name]: { data: [{ type: 'walk-probe', id: randomUUID() }] } } } });
          let relatedType = requiredType(many, `/data/relationships/${name}/data/0/type`);
          let toMany = true;
          const toOne = many.body?.errors?.some((e: { source?: { pointer?: string } }) => e.source?.pointer === `/data/relationships/${name}/data`);
          if (!relatedType && toOne) {
            const one = await a.owner.client.request(operation.method, path, { data: { ...base, relationships: { ...requiredRelationships(type), [name]: { data: { type: 'walk-probe', id: randomUUID() } } } } });
            relatedType = requiredType(one, `/data/relationships/${name}/data/type`);
            toMany = false;
          }
          if (!relatedType) continue;
          probed += 1;
          for (const id of idsOfType(b.ids, relatedType)) {
            const related = { [name]: { data: toMany ? [{ type: relatedType, id }] : { type: relatedType, id } } };
            bodies.push({ data: { ...base, attributes: attributesFor(type, operation, b), relationships: { ...requiredRelationships(type), ...related } } });
          }
        }
      }
      for (const body of bodies) {
        const result = await call(operation.method, path, body);
        const refersToB = JSON.stringify(body).match(/[0-9a-f-]{36}/g)?.some((id) => b.needles.includes(id));
        if (refersToB && result.status >= 200 && result.status < 300 && operation.method !== 'DELETE') {
          wrong.push(`${operation.method} ${path} ${JSON.stringify(body).slice(0, 200)} -> ${result.status}: accepted B's id`);
        }
        if (result.status >= 500) wrong.push(`${operation.method} ${path} -> ${result.status}`);
      }
    }
    // A multipart upload is no JSON:API body: an import into B's provider is tried by hand.
    const upload = await uploadImport(a.owner.client, { provider_id: b.ids.provider }, JSON.stringify(fixtureFindings(b.providerUid)));
    calls += 1;
    if (upload.status !== 404) wrong.push(`POST /api/v1/scans/imports into B's provider -> ${upload.status}`);
    assert.ok(probed >= 8, `${probed} relationships found in bodies`);
    assert.deepEqual(wrong, []);
  });

  it('no answer held anything of B’s, and B’s rows are as they were', async () => {
    assert.ok(calls > 500, `${calls} calls`);
    assert.deepEqual(leaks, []);
    assert.deepEqual(await fingerprintOfB(), fingerprintBefore);
  });
});
