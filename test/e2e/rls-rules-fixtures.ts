import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { AppModule } from '../../src/app.module';
import { type Principal, tenantManager } from '../../src/database/tenant-context';
import { TenantDatabase } from '../../src/database/tenant-database';
import type { DatasetName } from '../../src/rls-rules/clause/dataset-catalog';
import { type RowPredicate, RowFilterService } from '../../src/rls-rules/row-filter.service';
import { ApiClient, signIn, signUp, type SignedUpUser } from '../support/http-client';
import { startTestApp, type TestApp } from '../support/test-app';

/*
 * Shared arrangements for the row filter rule tests: the API with the rules
 * module, roles and providers written directly as the owner, and principals
 * built by hand to call RowFilterService inside a real tenant transaction.
 */

export function startRulesApp(): Promise<TestApp> {
  return startTestApp({}, AppModule);
}

export async function insertRole(admin: Client, tenantId: string, name: string, permissions: string[] = []): Promise<string> {
  const id = randomUUID();
  const columns = ['id', 'tenant_id', 'name', ...permissions];
  const values = [id, tenantId, name, ...permissions.map(() => true)];
  await admin.query(`INSERT INTO roles (${columns.join(', ')}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`, values);
  return id;
}

export async function grantRole(admin: Client, tenantId: string, userId: string, roleId: string): Promise<void> {
  await admin.query(`INSERT INTO user_roles (id, tenant_id, user_id, role_id) VALUES ($1, $2, $3, $4)`, [randomUUID(), tenantId, userId, roleId]);
}

/** A new user who is a member of `tenantId` holding `roleIds`, signed in to that tenant. */
export async function addMember(baseUrl: string, admin: Client, tenantId: string, label: string, roleIds: string[]): Promise<SignedUpUser> {
  const user = await signUp(baseUrl, label);
  await admin.query(`INSERT INTO memberships (id, tenant_id, user_id, role) VALUES ($1, $2, $3, 'member')`, [randomUUID(), tenantId, user.userId]);
  for (const roleId of roleIds) await grantRole(admin, tenantId, user.userId, roleId);
  const tokens = await signIn(baseUrl, user.email, user.password, tenantId);
  return { ...user, tenantId, ...tokens, client: new ApiClient(baseUrl, tokens.access) };
}

export interface ProviderSeed {
  uid: string;
  provider?: string;
  alias?: string | null;
  connected?: boolean | null;
}

export async function insertProviders(admin: Client, tenantId: string, seeds: ProviderSeed[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const seed of seeds) {
    const id = randomUUID();
    await admin.query(`INSERT INTO providers (id, tenant_id, provider, uid, alias, connected) VALUES ($1, $2, $3, $4, $5, $6)`, [
      id,
      tenantId,
      seed.provider ?? 'aws',
      seed.uid,
      seed.alias ?? null,
      seed.connected ?? null,
    ]);
    ids.set(seed.uid, id);
  }
  return ids;
}

export interface RuleSpec {
  name?: string;
  filter_type?: 'Regular' | 'Base';
  group_key?: string | null;
  clause: string;
  description?: string | null;
  roles?: string[];
  tables?: string[];
}

export function ruleBody(spec: RuleSpec, id?: string): unknown {
  return {
    data: {
      type: 'rls-rules',
      ...(id ? { id } : {}),
      attributes: {
        name: spec.name ?? `rule-${randomUUID()}`,
        filter_type: spec.filter_type ?? 'Regular',
        clause: spec.clause,
        ...(spec.group_key !== undefined ? { group_key: spec.group_key } : {}),
        ...(spec.description !== undefined ? { description: spec.description } : {}),
      },
      relationships: {
        roles: { data: (spec.roles ?? []).map((roleId) => ({ type: 'roles', id: roleId })) },
        tables: { data: (spec.tables ?? ['providers']).map((table) => ({ type: 'rls-tables', id: table })) },
      },
    },
  };
}

/** Creates a rule through the API and answers its id; fails the test on anything but 201. */
export async function createRule(client: ApiClient, spec: RuleSpec): Promise<string> {
  const created = await client.post('/api/v1/rls-rules', ruleBody(spec));
  if (created.status !== 201) throw new Error(`rule creation failed: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.data.id;
}

export function principal(tenantId: string, roleIds: string[], overrides: Partial<Principal> = {}): Principal {
  return {
    userId: randomUUID(),
    tenantId,
    verifiedEmail: 'someone@example.com',
    roleId: roleIds[0] ?? null,
    roleIds,
    permissions: new Set(),
    membershipRole: 'member',
    visibleProviderIds: null,
    ...overrides,
  };
}

/** Runs fn inside a read-only tenant transaction for `who`, as a request would. */
export function asPrincipal<T>(app: TestApp, who: Principal, fn: (rowFilter: RowFilterService) => Promise<T>): Promise<T> {
  const rowFilter = app.app.get(RowFilterService);
  return app.app.get(TenantDatabase).transaction(who.tenantId, () => fn(rowFilter), { principal: who, readOnly: true });
}

export async function predicateFor(app: TestApp, who: Principal, dataset: DatasetName = 'providers'): Promise<RowPredicate | null> {
  return asPrincipal(app, who, (rowFilter) => rowFilter.predicateFor(dataset, 'p', 0));
}

/** The uids of the live providers `who` may see: a providers list the way a reader applies the rules. */
export async function visibleProviderUids(app: TestApp, who: Principal): Promise<string[]> {
  return asPrincipal(app, who, async (rowFilter) => {
    const filter = await rowFilter.predicateFor('providers', 'p', 0);
    const found: Array<{ uid: string }> = await tenantManager().query(
      `SELECT p.uid FROM providers p WHERE p.deleted_at IS NULL${filter ? ` AND ${filter.sql}` : ''} ORDER BY p.uid`,
      filter?.params ?? [],
    );
    return found.map((row) => row.uid);
  });
}
