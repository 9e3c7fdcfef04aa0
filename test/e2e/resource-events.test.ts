import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { adminClient } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';
import { buildFindingsWorld, FindingsWorld } from '../support/findings-world';
import { ApiClient, signIn } from '../support/http-client';

/** A stand-in for a CloudTrail reader behind RESOURCE_EVENTS_URL: it records what it is asked and answers as told. */
interface EventService {
  url: string;
  requests: unknown[];
  answer: { status: number; body: unknown };
  close(): Promise<void>;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) text += chunk;
  return JSON.parse(text);
}

async function startEventService(): Promise<EventService> {
  const server: Server = createServer(async (request, response) => {
    service.requests.push(await readJson(request));
    const { status, body } = service.answer;
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  const service: EventService = {
    url: '',
    requests: [],
    answer: { status: 200, body: { events: [] } },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  service.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  return service;
}

const EVENT = {
  id: 'c0ffee00-0000-4000-8000-000000000001',
  event_time: '2026-11-30T10:00:00Z',
  event_name: 'PutBucketPolicy',
  event_source: 's3.amazonaws.com',
  actor: 'alice',
  actor_uid: 'arn:aws:iam::111111111111:user/alice',
  actor_type: 'IAMUser',
  source_ip_address: '198.51.100.7',
  user_agent: 'aws-cli/2',
  request_data: { bucketName: 'b' },
  response_data: null,
  error_code: null,
  error_message: null,
  extra_member: 'dropped',
};

/**
 * /resources/{id}/events through its port: 503 naming the setting when no
 * source is configured; the contract's shape, parameters and errors against
 * a local event service when one is.
 */
describe('resource events', () => {
  let admin: Client;
  let bare: TestApp;
  let wired: TestApp;
  let service: EventService;
  let world: FindingsWorld;
  let awsResource: { id: string; uid: string; region: string };
  let azureResource: string;
  let wiredClient: ApiClient;

  before(async () => {
    admin = await adminClient();
    service = await startEventService();
    bare = await startTestApp();
    wired = await startTestApp({ RESOURCE_EVENTS_URL: service.url });
    world = await buildFindingsWorld(bare, admin, 'events', 30);
    awsResource = (await admin.query(`SELECT id, uid, region FROM resources WHERE provider_id = $1 ORDER BY uid LIMIT 1`, [world.providers.aws1])).rows[0];
    azureResource = (await admin.query(`SELECT id FROM resources WHERE provider_id = $1 LIMIT 1`, [world.providers.azure])).rows[0].id;
    const tokens = await signIn(wired.baseUrl, world.owner.email, world.owner.password, world.tenantId);
    wiredClient = new ApiClient(wired.baseUrl, tokens.access);
  });
  after(async () => {
    await admin.end();
    await bare.close();
    await wired.close();
    await service.close();
  });

  it('answers 503 naming RESOURCE_EVENTS_URL when no event source is configured', async () => {
    const answer = await world.owner.client.get(`/api/v1/resources/${awsResource.id}/events`);
    assert.equal(answer.status, 503);
    assert.equal(answer.body.errors[0].code, 'events_unavailable');
    assert.match(answer.body.errors[0].detail, /RESOURCE_EVENTS_URL/);
  });

  it("asks the configured source about the resource's account and answers the serializer's fields", async () => {
    service.answer = { status: 200, body: { events: [EVENT] } };
    const answer = await wiredClient.get(`/api/v1/resources/${awsResource.id}/events?lookback_days=7&page[size]=5&include_read_events=true`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(service.requests.at(-1), {
      provider: 'aws', provider_uid: '111111111111', resource_uid: awsResource.uid, region: awsResource.region,
      lookback_days: 7, limit: 5, include_read_events: true,
    });
    const { id, extra_member: _, ...attributes } = EVENT;
    assert.deepEqual(answer.body.data, [{ type: 'resource-events', id, attributes: { ...attributes, event_time: '2026-11-30T10:00:00.000Z' } }]);

    await wiredClient.get(`/api/v1/resources/${awsResource.id}/events`);
    assert.deepEqual(service.requests.at(-1), {
      provider: 'aws', provider_uid: '111111111111', resource_uid: awsResource.uid, region: awsResource.region,
      lookback_days: 90, limit: 50, include_read_events: false,
    });
  });

  it('maps a failing source to 503 and an unusable one to 502', async () => {
    service.answer = { status: 500, body: { message: 'down' } };
    assert.equal((await wiredClient.get(`/api/v1/resources/${awsResource.id}/events`)).status, 503);
    service.answer = { status: 200, body: 'not json' };
    assert.equal((await wiredClient.get(`/api/v1/resources/${awsResource.id}/events`)).status, 502);
    service.answer = { status: 200, body: { events: [{ ...EVENT, event_name: undefined }] } };
    assert.equal((await wiredClient.get(`/api/v1/resources/${awsResource.id}/events`)).status, 502);
  });

  it('refuses bad parameters, other providers and unknown resources before asking the source', async () => {
    const asked = service.requests.length;
    const cases: Array<[string, number, string | null]> = [
      [`${awsResource.id}/events?lookback_days=0`, 400, 'lookback_days'],
      [`${awsResource.id}/events?lookback_days=91`, 400, 'lookback_days'],
      [`${awsResource.id}/events?lookback_days=x`, 400, 'lookback_days'],
      [`${awsResource.id}/events?page[size]=51`, 400, 'page[size]'],
      [`${awsResource.id}/events?include_read_events=maybe`, 400, 'include_read_events'],
      [`${awsResource.id}/events?other=1`, 400, 'other'],
      [`${azureResource}/events`, 400, null],
      [`${randomUUID()}/events`, 404, null],
      ['not-a-uuid/events', 400, 'id'],
    ];
    for (const [path, status, parameter] of cases) {
      const answer = await wiredClient.get(`/api/v1/resources/${path}`);
      assert.equal(answer.status, status, path);
      if (parameter) assert.equal(answer.body.errors[0].source.parameter, parameter, path);
    }
    // Prowler's code for a resource of another provider type.
    assert.equal((await wiredClient.get(`/api/v1/resources/${azureResource}/events`)).body.errors[0].code, 'invalid_provider');
    assert.equal(service.requests.length, asked);
  });
});
