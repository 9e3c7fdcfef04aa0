import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { adminClient } from '../support/database';
import { signUp, type SignedUpUser } from '../support/http-client';
import type { TestApp } from '../support/test-app';
import { addMember, createRule, insertRole, ruleBody, startRulesApp } from './rls-rules-fixtures';

describe('rls-rules API', () => {
  let app: TestApp;
  let admin: Client;
  let owner: SignedUpUser;
  let analyst: string;
  let auditor: string;

  before(async () => {
    app = await startRulesApp();
    admin = await adminClient();
    owner = await signUp(app.baseUrl, 'rules-owner');
    analyst = await insertRole(admin, owner.tenantId, 'analyst');
    auditor = await insertRole(admin, owner.tenantId, 'auditor');
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  it('creates a rule and shows it with its relationships and audit fields', async () => {
    const created = await owner.client.post(
      '/api/v1/rls-rules',
      ruleBody({ name: 'aws only', description: 'analysts see AWS', clause: "uid LIKE 'aws-%'", roles: [analyst], tables: ['providers', 'findings'], group_key: 'cloud' }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const rule = created.body.data;
    assert.equal(rule.type, 'rls-rules');
    assert.deepEqual(
      { ...rule.attributes, inserted_at: undefined, updated_at: undefined },
      { name: 'aws only', description: 'analysts see AWS', filter_type: 'Regular', group_key: 'cloud', clause: "uid LIKE 'aws-%'", inserted_at: undefined, updated_at: undefined },
    );
    assert.deepEqual(rule.relationships.roles.data, [{ type: 'roles', id: analyst }]);
    assert.deepEqual(rule.relationships.tables.data, [{ type: 'rls-tables', id: 'findings' }, { type: 'rls-tables', id: 'providers' }]);
    assert.deepEqual(rule.relationships.created_by.data, { type: 'users', id: owner.userId });
    assert.deepEqual(rule.relationships.changed_by.data, { type: 'users', id: owner.userId });

    const shown = await owner.client.get(`/api/v1/rls-rules/${rule.id}`);
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body.data, rule);
  });

  it('stores the compiled form beside the clause, so requests never parse it again', async () => {
    const id = await createRule(owner.client, { clause: 'alias ILIKE {{ current_user_email }}', filter_type: 'Base' });
    const { rows } = await admin.query(`SELECT compiled FROM rls_rules WHERE id = $1`, [id]);
    assert.deepEqual(rows[0].compiled, { sql: '({col:alias} ILIKE {param:current_user_email})', params: ['current_user_email'] });
  });

  it('a Base rule may have no roles; a Regular rule needs one (400 on the roles relationship)', async () => {
    const base = await owner.client.post('/api/v1/rls-rules', ruleBody({ filter_type: 'Base', clause: 'connected', roles: [] }));
    assert.equal(base.status, 201);
    const regular = await owner.client.post('/api/v1/rls-rules', ruleBody({ filter_type: 'Regular', clause: 'connected', roles: [] }));
    assert.equal(regular.status, 400);
    assert.equal(regular.body.errors[0].source.pointer, '/data/relationships/roles');
    const turned = await owner.client.patch(`/api/v1/rls-rules/${base.body.data.id}`, {
      data: { type: 'rls-rules', id: base.body.data.id, attributes: { filter_type: 'Regular' } },
    });
    assert.equal(turned.status, 400, 'PATCH checks the rule as a whole');
  });

  it('a duplicate name in the tenant is 409; the same name in another tenant is fine', async () => {
    const name = `dup-${randomUUID()}`;
    await createRule(owner.client, { name, clause: 'connected', roles: [analyst] });
    const again = await owner.client.post('/api/v1/rls-rules', ruleBody({ name, clause: 'connected IS NULL', roles: [analyst] }));
    assert.equal(again.status, 409);
    assert.equal(again.body.errors[0].source.pointer, '/data/attributes/name');
    const other = await signUp(app.baseUrl, 'rules-other');
    assert.equal((await other.client.post('/api/v1/rls-rules', ruleBody({ name, clause: 'connected', filter_type: 'Base' }))).status, 201);

    const second = await createRule(owner.client, { clause: 'connected', roles: [analyst] });
    const rename = await owner.client.patch(`/api/v1/rls-rules/${second}`, { data: { type: 'rls-rules', id: second, attributes: { name } } });
    assert.equal(rename.status, 409);
  });

  it('an unknown role, another tenant’s role or an unknown table is 422', async () => {
    const unknownRole = await owner.client.post('/api/v1/rls-rules', ruleBody({ clause: 'connected', roles: [randomUUID()] }));
    assert.equal(unknownRole.status, 422);
    assert.equal(unknownRole.body.errors[0].code, 'unknown_role');

    const other = await signUp(app.baseUrl, 'rules-foreign-role');
    const foreignRole = await insertRole(admin, other.tenantId, 'foreign');
    const crossTenant = await owner.client.post('/api/v1/rls-rules', ruleBody({ clause: 'connected', roles: [foreignRole] }));
    assert.equal(crossTenant.status, 422);

    const unknownTable = await owner.client.post('/api/v1/rls-rules', ruleBody({ clause: 'connected', roles: [analyst], tables: ['providers', 'secrets'] }));
    assert.equal(unknownTable.status, 422);
    assert.equal(unknownTable.body.errors[0].code, 'unknown_table');
    assert.match(unknownTable.body.errors[0].detail, /secrets/);
  });

  it('malformed bodies are 400 (or 409 for a wrong type), never 500', async () => {
    const valid = ruleBody({ clause: 'connected', roles: [analyst] }) as { data: Record<string, any> };
    const cases: Array<[string, unknown, number]> = [
      ['no body', undefined, 400],
      ['data is a list', { data: [] }, 400],
      ['missing name', { data: { ...valid.data, attributes: { filter_type: 'Regular', clause: 'connected' } } }, 400],
      ['name too long', { data: { ...valid.data, attributes: { ...valid.data.attributes, name: 'x'.repeat(256) } } }, 400],
      ['empty name', { data: { ...valid.data, attributes: { ...valid.data.attributes, name: '' } } }, 400],
      ['unknown filter type', { data: { ...valid.data, attributes: { ...valid.data.attributes, filter_type: 'Strict' } } }, 400],
      ['group key too long', { data: { ...valid.data, attributes: { ...valid.data.attributes, group_key: 'g'.repeat(256) } } }, 400],
      ['clause not a string', { data: { ...valid.data, attributes: { ...valid.data.attributes, clause: 42 } } }, 400],
      ['unknown attribute', { data: { ...valid.data, attributes: { ...valid.data.attributes, tenant: 'x' } } }, 400],
      ['NUL in name', { data: { ...valid.data, attributes: { ...valid.data.attributes, name: 'a\u0000b' } } }, 400],
      ['tables missing', { data: { ...valid.data, relationships: { roles: valid.data.relationships.roles } } }, 400],
      ['tables empty', { data: { ...valid.data, relationships: { ...valid.data.relationships, tables: { data: [] } } } }, 400],
      ['tables not a list', { data: { ...valid.data, relationships: { ...valid.data.relationships, tables: { data: { type: 'rls-tables', id: 'providers' } } } } }, 400],
      ['table id not a string', { data: { ...valid.data, relationships: { ...valid.data.relationships, tables: { data: [{ type: 'rls-tables', id: 7 }] } } } }, 400],
      ['role id not a UUID', { data: { ...valid.data, relationships: { ...valid.data.relationships, roles: { data: [{ type: 'roles', id: 'admin' }] } } } }, 400],
      ['unknown relationship', { data: { ...valid.data, relationships: { ...valid.data.relationships, users: { data: [] } } } }, 400],
      ['wrong resource type', { data: { ...valid.data, type: 'rules' } }, 409],
      ['wrong table type', { data: { ...valid.data, relationships: { ...valid.data.relationships, tables: { data: [{ type: 'tables', id: 'providers' }] } } } }, 409],
      ['client id', { data: { ...valid.data, id: randomUUID() } }, 400],
    ];
    for (const [label, body, status] of cases) {
      const result = await owner.client.request('POST', '/api/v1/rls-rules', body === undefined ? '' : body);
      assert.equal(result.status, status, `${label}: ${JSON.stringify(result.body)}`);
      assert.ok(Array.isArray(result.body.errors), label);
    }
  });

  it('PATCH changes what is sent; PUT replaces everything, clearing what is left out', async () => {
    const id = await createRule(owner.client, {
      clause: "uid = 'a'",
      roles: [analyst, auditor],
      tables: ['providers', 'resources'],
      group_key: 'g1',
      description: 'first',
    });
    const patched = await owner.client.patch(`/api/v1/rls-rules/${id}`, {
      data: { type: 'rls-rules', id, attributes: { clause: "uid = 'b'" }, relationships: { roles: { data: [{ type: 'roles', id: auditor }] } } },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.data.attributes.clause, "uid = 'b'");
    assert.equal(patched.body.data.attributes.group_key, 'g1');
    assert.equal(patched.body.data.attributes.description, 'first');
    assert.deepEqual(patched.body.data.relationships.roles.data, [{ type: 'roles', id: auditor }]);
    assert.equal(patched.body.data.relationships.tables.data.length, 2);

    const nulled = await owner.client.patch(`/api/v1/rls-rules/${id}`, { data: { type: 'rls-rules', id, attributes: { clause: null } } });
    assert.equal(nulled.status, 400);

    const replaced = await owner.client.request('PUT', `/api/v1/rls-rules/${id}`, ruleBody({ name: `replaced-${id}`, filter_type: 'Base', clause: 'connected', tables: ['providers'] }, id));
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    assert.equal(replaced.body.data.attributes.group_key, null);
    assert.equal(replaced.body.data.attributes.description, null);
    assert.equal(replaced.body.data.attributes.filter_type, 'Base');
    assert.deepEqual(replaced.body.data.relationships.roles.data, []);
    assert.deepEqual(replaced.body.data.relationships.tables.data, [{ type: 'rls-tables', id: 'providers' }]);

    const partialPut = await owner.client.request('PUT', `/api/v1/rls-rules/${id}`, { data: { type: 'rls-rules', id, attributes: { clause: 'connected' } } });
    assert.equal(partialPut.status, 400, 'PUT validates a whole rule');
    const mismatch = await owner.client.request('PUT', `/api/v1/rls-rules/${id}`, ruleBody({ clause: 'connected', filter_type: 'Base' }, randomUUID()));
    assert.equal(mismatch.status, 409);
    const missing = randomUUID();
    assert.equal((await owner.client.request('PUT', `/api/v1/rls-rules/${missing}`, ruleBody({ clause: 'connected', filter_type: 'Base' }, missing))).status, 404);
    assert.equal((await owner.client.patch(`/api/v1/rls-rules/${missing}`, { data: { type: 'rls-rules', id: missing, attributes: {} } })).status, 404);
  });

  it('lists with filters, sort and pages', async () => {
    const user = await signUp(app.baseUrl, 'rules-list');
    const role = await insertRole(admin, user.tenantId, 'viewer');
    const ids: Record<string, string> = {};
    for (const [name, type, group, tables] of [
      ['alpha', 'Regular', 'g', ['providers']],
      ['beta', 'Base', null, ['findings']],
      ['gamma', 'Regular', 'g', ['findings', 'scans']],
      ['Delta 50%', 'Base', 'h', ['resources']],
    ] as const) {
      ids[name] = await createRule(user.client, { name, filter_type: type, group_key: group, clause: 'inserted_at IS NOT NULL', roles: type === 'Regular' ? [role] : [], tables: [...tables] });
    }
    const names = async (query: string) => {
      const result = await user.client.get(`/api/v1/rls-rules${query}`);
      assert.equal(result.status, 200, `${query}: ${JSON.stringify(result.body)}`);
      return result.body.data.map((rule: { attributes: { name: string } }) => rule.attributes.name);
    };
    assert.deepEqual(await names(''), ['Delta 50%', 'alpha', 'beta', 'gamma']);
    assert.deepEqual(await names('?sort=-name'), ['gamma', 'beta', 'alpha', 'Delta 50%']);
    assert.deepEqual(await names('?filter[name]=beta'), ['beta']);
    assert.deepEqual(await names('?filter[name__icontains]=MM'), ['gamma']);
    assert.deepEqual(await names('?filter[name__icontains]=50%25'), ['Delta 50%']);
    assert.deepEqual(await names('?filter[name__icontains]=%25'), ['Delta 50%'], 'a % in the search matches itself');
    assert.deepEqual(await names('?filter[filter_type]=Base'), ['Delta 50%', 'beta']);
    assert.deepEqual(await names('?filter[group_key]=g'), ['alpha', 'gamma']);
    assert.deepEqual(await names(`?filter[roles]=${role}`), ['alpha', 'gamma']);
    assert.deepEqual(await names('?filter[tables]=findings'), ['beta', 'gamma']);
    assert.deepEqual(await names('?filter[tables__in]=scans,resources'), ['Delta 50%', 'gamma']);
    assert.deepEqual(await names(`?filter[id__in]=${ids.alpha},${ids.beta}`), ['alpha', 'beta']);

    const page = await user.client.get('/api/v1/rls-rules?page[size]=3&page[number]=2');
    assert.deepEqual(page.body.data.map((rule: { attributes: { name: string } }) => rule.attributes.name), ['gamma']);
    assert.deepEqual(page.body.meta.pagination, { page: 2, pages: 2, count: 4 });

    const sparse = await user.client.get('/api/v1/rls-rules?fields[rls-rules]=name,tables&page[size]=1');
    assert.deepEqual(Object.keys(sparse.body.data[0].attributes), ['name']);
    assert.deepEqual(Object.keys(sparse.body.data[0].relationships), ['tables']);

    for (const query of ['?filter[tables]=secrets', '?filter[filter_type]=strict', '?sort=clause', '?filter[roles]=nope', '?filter[colour]=red', '?page[size]=0']) {
      const result = await user.client.get(`/api/v1/rls-rules${query}`);
      assert.equal(result.status, 400, query);
    }
  });

  it('bulk delete is all or nothing: one unknown id and none is deleted (404)', async () => {
    const user = await signUp(app.baseUrl, 'rules-bulk');
    const first = await createRule(user.client, { clause: 'connected', filter_type: 'Base' });
    const second = await createRule(user.client, { clause: 'connected', filter_type: 'Base' });
    const third = await createRule(user.client, { clause: 'connected', filter_type: 'Base' });
    const stranger = await createRule(owner.client, { clause: 'connected', filter_type: 'Base' });

    const unknown = randomUUID();
    const refused = await user.client.delete(`/api/v1/rls-rules?filter[id__in]=${first},${second},${unknown}`);
    assert.equal(refused.status, 404);
    assert.match(refused.body.errors[0].detail, new RegExp(unknown));
    const otherTenant = await user.client.delete(`/api/v1/rls-rules?filter[id__in]=${first},${stranger}`);
    assert.equal(otherTenant.status, 404, 'another tenant’s rule is unknown here');
    assert.equal((await user.client.get('/api/v1/rls-rules')).body.meta.pagination.count, 3);
    assert.equal((await owner.client.get(`/api/v1/rls-rules/${stranger}`)).status, 200);

    assert.equal((await user.client.delete('/api/v1/rls-rules')).status, 400, 'no filter never means "all"');
    assert.equal((await user.client.delete('/api/v1/rls-rules?filter[id__in]=x')).status, 400);

    const done = await user.client.delete(`/api/v1/rls-rules?filter[id__in]=${first},${second},${first}`);
    assert.equal(done.status, 204);
    const left = await user.client.get('/api/v1/rls-rules');
    assert.deepEqual(left.body.data.map((rule: { id: string }) => rule.id), [third]);
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM rls_rule_tables WHERE rule_id = ANY($1::uuid[])`, [[first, second]]);
    assert.equal(rows[0].n, 0, 'links go with their rules');

    assert.equal((await user.client.delete(`/api/v1/rls-rules/${third}`)).status, 204);
    assert.equal((await user.client.delete(`/api/v1/rls-rules/${third}`)).status, 404);
    assert.equal((await user.client.get(`/api/v1/rls-rules/${third}`)).status, 404);
  });

  it('another tenant’s rule answers 404 to every verb', async () => {
    const stranger = await signUp(app.baseUrl, 'rules-stranger');
    const id = await createRule(owner.client, { clause: 'connected', roles: [analyst] });
    assert.equal((await stranger.client.get(`/api/v1/rls-rules/${id}`)).status, 404);
    assert.equal((await stranger.client.patch(`/api/v1/rls-rules/${id}`, { data: { type: 'rls-rules', id, attributes: { name: 'mine' } } })).status, 404);
    assert.equal((await stranger.client.request('PUT', `/api/v1/rls-rules/${id}`, ruleBody({ clause: 'connected', filter_type: 'Base' }, id))).status, 404);
    assert.equal((await stranger.client.delete(`/api/v1/rls-rules/${id}`)).status, 404);
    assert.equal((await stranger.client.get('/api/v1/rls-rules')).body.meta.pagination.count, 0);
    assert.equal((await owner.client.get(`/api/v1/rls-rules/${id}`)).status, 200);
  });

  it('related roles and tables, searchable by name, with pages', async () => {
    const roles = await owner.client.get('/api/v1/rls-rules/related/roles?filter[name__icontains]=ANAL');
    assert.equal(roles.status, 200);
    assert.deepEqual(roles.body.data, [{ type: 'roles', id: analyst, attributes: { name: 'analyst' } }]);
    const all = await owner.client.get('/api/v1/rls-rules/related/roles?page[size]=2');
    assert.deepEqual(all.body.data.map((role: { attributes: { name: string } }) => role.attributes.name), ['admin', 'analyst']);
    assert.deepEqual(all.body.meta.pagination, { page: 1, pages: 2, count: 3 });

    const tables = await owner.client.get('/api/v1/rls-rules/related/tables');
    assert.equal(tables.status, 200);
    assert.deepEqual(tables.body.data.map((table: { id: string }) => table.id), ['findings', 'providers', 'resources', 'scans']);
    const findings = tables.body.data[0];
    assert.equal(findings.type, 'rls-tables');
    assert.deepEqual(findings.attributes.columns.find((column: { name: string }) => column.name === 'severity'), { name: 'severity', type: 'text' });
    assert.equal(findings.attributes.columns.some((column: { name: string }) => column.name === 'tenant_id'), false);
    const searched = await owner.client.get('/api/v1/rls-rules/related/tables?filter[name__icontains]=SCA');
    assert.deepEqual(searched.body.data.map((table: { id: string }) => table.id), ['scans']);
    const paged = await owner.client.get('/api/v1/rls-rules/related/tables?page[size]=3&page[number]=2');
    assert.deepEqual(paged.body.data.map((table: { id: string }) => table.id), ['scans']);
  });

  it('needs manage_account; another user’s effective filter needs manage_users too', async () => {
    const plain = await insertRole(admin, owner.tenantId, 'plain');
    const accountant = await insertRole(admin, owner.tenantId, 'accountant', ['manage_account']);
    const nobody = await addMember(app.baseUrl, admin, owner.tenantId, 'rules-plain', [plain]);
    const member = await addMember(app.baseUrl, admin, owner.tenantId, 'rules-accountant', [accountant]);
    for (const [method, path] of [
      ['GET', '/api/v1/rls-rules'],
      ['POST', '/api/v1/rls-rules'],
      ['GET', '/api/v1/rls-rules/related/roles'],
      ['GET', '/api/v1/rls-rules/effective?filter[table]=findings'],
      ['DELETE', `/api/v1/rls-rules/${randomUUID()}`],
    ] as const) {
      const result = await nobody.client.request(method, path, method === 'POST' ? ruleBody({ clause: 'connected', filter_type: 'Base' }) : undefined);
      assert.equal(result.status, 403, `${method} ${path}`);
    }
    const own = await member.client.get('/api/v1/rls-rules/effective?filter[table]=findings');
    assert.equal(own.status, 200);
    assert.equal((await member.client.get(`/api/v1/rls-rules/effective?filter[table]=findings&filter[user]=${member.userId}`)).status, 200);
    const others = await member.client.get(`/api/v1/rls-rules/effective?filter[table]=findings&filter[user]=${owner.userId}`);
    assert.equal(others.status, 403);
    const byOwner = await owner.client.get(`/api/v1/rls-rules/effective?filter[table]=findings&filter[user]=${nobody.userId}`);
    assert.equal(byOwner.status, 200);
    assert.deepEqual(byOwner.body.data.relationships.roles.data, [{ type: 'roles', id: plain }]);
    assert.equal((await owner.client.get(`/api/v1/rls-rules/effective?filter[table]=findings&filter[user]=${randomUUID()}`)).status, 404);
    assert.equal((await owner.client.get('/api/v1/rls-rules/effective')).status, 400);
    assert.equal((await owner.client.get('/api/v1/rls-rules/effective?filter[table]=secrets')).status, 400);
  });
});
