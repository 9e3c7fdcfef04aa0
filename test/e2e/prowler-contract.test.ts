import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { adminClient } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';
import { buildFindingsWorld, FindingsWorld } from '../support/findings-world';
import { checkAnswer, contractOperation, contractOperations, ContractOperation } from '../support/contract';
import { parameterProbes, requiredQuery, routeShape } from '../support/contract-parameters';

/**
 * Prowler's contract (../shared/reference/prowler-api-v1.yaml) against this API.
 * Every answer any suite receives through test/support/http-client.ts is already
 * checked against the contract there (a mismatch fails the test that made the
 * request); this file checks the checker and probes every documented query
 * parameter of every operation served here.
 */

describe("Prowler's contract", () => {
  let admin: Client;
  let app: TestApp;
  let world: FindingsWorld;
  let served: ContractOperation[];

  before(async () => {
    admin = await adminClient();
    app = await startTestApp();
    world = await buildFindingsWorld(app, admin, 'contract', 60);
    const document = (await (await fetch(`${app.baseUrl}/api/v1/docs/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const routes = new Set(Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${routeShape(path)}`)));
    served = contractOperations().filter((o) => routes.has(`${o.method} ${routeShape(o.path)}`));
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  it('maps request paths onto the contract, literal segments first', () => {
    assert.equal(contractOperation('GET', '/api/v1/findings/latest?page[size]=1')?.path, '/api/v1/findings/latest');
    assert.equal(contractOperation('GET', `/api/v1/findings/${randomUUID()}`)?.path, '/api/v1/findings/{id}');
    assert.equal(contractOperation('GET', `/api/v1/tenants/${randomUUID()}/memberships`)?.path, '/api/v1/tenants/{tenant_pk}/memberships');
    assert.equal(contractOperation('GET', '/api/v1/rls-rules'), undefined, 'an extension of this API is not in the contract');
    assert.equal(checkAnswer('GET', '/api/v1/rls-rules', 200, { anything: true }), null);
  });

  it('refuses answers that break the contract', () => {
    const id = randomUUID();
    const provider = { type: 'providers', id, attributes: { provider: 'aws', uid: '123456789012', alias: null }, relationships: { secret: { data: null } } };
    assert.equal(checkAnswer('GET', `/api/v1/providers/${id}`, 200, { data: provider }), null);
    const undocumented = checkAnswer('POST', '/api/v1/providers', 200, { data: provider });
    assert.match(undocumented?.problems.join() ?? '', /status 200 is not documented/);
    const wrongEnum = checkAnswer('GET', `/api/v1/providers/${id}`, 200, { data: { ...provider, attributes: { ...provider.attributes, provider: 'nope' } } });
    assert.match(wrongEnum?.problems.join() ?? '', /\/data\/attributes\/provider must be equal to one of the allowed values/);
    const notUuid = checkAnswer('GET', `/api/v1/providers/${id}`, 200, { data: { ...provider, id: 'x' } });
    assert.match(notUuid?.problems.join() ?? '', /\/data\/id must match format "uuid"/);
    const badError = checkAnswer('GET', `/api/v1/providers/${id}`, 404, { message: 'not found' });
    assert.match(badError?.problems.join() ?? '', /must have required property 'errors'/);
    // With a sparse fieldset the attributes the schema requires may be left out, as Prowler does.
    const sparse = { data: { ...provider, attributes: { alias: null } } };
    assert.equal(checkAnswer('GET', `/api/v1/providers/${id}?fields[providers]=alias`, 200, sparse), null);
    // What is there must still match.
    const wrongType = checkAnswer('GET', `/api/v1/providers/${id}?fields[providers]=uid`, 200, { data: { ...provider, attributes: { uid: 7 } } });
    assert.match(wrongType?.problems.join() ?? '', /\/data\/attributes\/uid must be string/);
    // An answer Prowler gives as a list where the contract has one object: each item is checked.
    const overview = { type: 'services-overview', id: 'ec2', attributes: { total: 1, fail: 1, muted: 0, pass: 0 } };
    assert.equal(checkAnswer('GET', '/api/v1/overviews/services', 200, { data: [overview] }), null);
    assert.match(checkAnswer('GET', '/api/v1/overviews/services', 200, { data: [{ ...overview, type: 'nope' }] })?.problems.join() ?? '', /\/data\/type/);
  });

  it('serves most of the operations the contract has for the features built here', () => {
    const shapes = new Set(served.map((o) => `${o.method} ${o.path}`));
    for (const expected of ['GET /api/v1/findings', 'GET /api/v1/tenants/{tenant_pk}/memberships', 'GET /api/v1/resources/latest', 'GET /api/v1/scans']) {
      assert.ok(shapes.has(expected), expected);
    }
  });

  it('accepts every query parameter the contract documents for an operation served here', async () => {
    const client = world.owner.client;
    const pathIds: Record<string, string> = { tenant_pk: world.tenantId, user_pk: world.owner.userId };
    const calls = served
      .filter((o) => o.method === 'GET')
      .flatMap((operation) => {
        const path = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => pathIds[name] ?? randomUUID());
        return parameterProbes(operation).map((probe) => {
          const query = [`${encodeURIComponent(probe.parameter)}=${encodeURIComponent(probe.value)}`, ...requiredQuery(operation, probe.parameter)];
          return { operation, probe, url: `${path}?${query.join('&')}` };
        });
      });
    const parameters = new Set(calls.map((c) => `${c.operation.path} ${c.probe.parameter}`));
    const refused = new Set<string>();
    const failures: string[] = [];
    for (let start = 0; start < calls.length; start += 16) {
      await Promise.all(
        calls.slice(start, start + 16).map(async ({ operation, probe, url }) => {
          try {
            const result = await client.get(url);
            const named = (result.body?.errors ?? []).some((e: any) => e.source?.parameter === probe.parameter);
            if (result.status >= 500 || (result.status === 400 && named)) {
              refused.add(`${operation.path} ${probe.parameter}`);
              failures.push(`GET ${url} -> ${result.status} ${JSON.stringify(result.body?.errors?.[0]?.detail ?? result.body).slice(0, 160)}`);
            }
          } catch (error) {
            failures.push(`GET ${url}: ${(error as Error).message.slice(0, 600)}`);
          }
        }),
      );
    }
    assert.ok(parameters.size > 500, `${parameters.size} documented parameters probed`);
    assert.equal(failures.length, 0, `${refused.size} of ${parameters.size} documented parameters refused (${calls.length} calls):\n${failures.sort().join('\n')}`);
  });
});
