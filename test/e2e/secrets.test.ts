import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { startTestApp, TestApp } from '../support/test-app';
import { signIn, SignedUpUser, signUp, ApiClient } from '../support/http-client';
import { adminClient } from '../support/database';
import { createProvider } from '../support/access-fixtures';
import { ProviderSecretsService } from '../../src/providers/provider-secrets.service';
import { TenantDatabase } from '../../src/database/tenant-database';
import { SecretCipher } from '../../src/providers/secret-cipher';
import { rotateSecrets } from '../../src/providers/secret-rotation';
import { GCP_KEY, KUBECONFIG } from '../support/secret-fixtures';

/** Collects every log line an application writes. */
class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  }
}

const KEY_1 = randomBytes(32).toString('base64');
const KEY_2 = randomBytes(32).toString('base64');

/** Values no response, log line or stored column may contain. */
const ACCESS_KEY = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
const SECRET_KEY = `plaintext-${randomBytes(12).toString('hex')}`;
const NEW_SECRET_KEY = `replacement-${randomBytes(12).toString('hex')}`;
const PLAINTEXTS = [ACCESS_KEY, SECRET_KEY, NEW_SECRET_KEY];

function secretBody(providerId: string, secret: unknown, secretType = 'static', name?: string) {
  return {
    data: {
      type: 'provider-secrets',
      attributes: { secret_type: secretType, secret, ...(name ? { name } : {}) },
      relationships: { provider: { data: { type: 'providers', id: providerId } } },
    },
  };
}

function assertNoPlaintext(text: string, where: string): void {
  for (const plaintext of PLAINTEXTS) assert.ok(!text.includes(plaintext), `${where} holds a secret value`);
}

async function storedRow(id: string): Promise<{ ciphertext: string; key_id: string }> {
  const db = await adminClient();
  try {
    const result = await db.query('SELECT ciphertext, key_id FROM provider_secrets WHERE id = $1', [id]);
    return result.rows[0];
  } finally {
    await db.end();
  }
}

/** The credentials as the code that connects to a provider would get them, from inside the given application. */
async function credentialsIn(app: TestApp, tenantId: string, providerId: string): Promise<Record<string, unknown> | null> {
  const database = app.app.get(TenantDatabase, { strict: false });
  const secrets = app.app.get(ProviderSecretsService, { strict: false });
  return database.transaction(tenantId, () => secrets.credentialsFor(providerId));
}

describe('provider secrets', () => {
  const logs = new LogCapture();
  let app: TestApp;
  let admin: SignedUpUser;
  let providerId: string;
  let secretId: string;
  const responses: string[] = [];

  async function call(client: ApiClient, method: string, path: string, body?: unknown) {
    const result = await client.request(method, path, body);
    responses.push(JSON.stringify(result.body ?? ''));
    return result;
  }

  before(async () => {
    app = await startTestApp({ SECRETS_ENCRYPTION_KEY: `k1:${KEY_1}`, LOG_LEVEL: 'trace' }, undefined, logs);
    admin = await signUp(app.baseUrl, 'secrets');
    providerId = await createProvider(admin.client, 'aws');
  });
  after(async () => app.close());

  it('stores a secret encrypted, returns only its metadata, and links it from the provider', async () => {
    const created = await call(admin.client, 'POST', '/api/v1/providers/secrets', secretBody(providerId, { aws_access_key_id: ACCESS_KEY, aws_secret_access_key: SECRET_KEY }, 'static', 'prod keys'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    secretId = created.body.data.id;
    assert.equal(created.body.data.type, 'provider-secrets');
    assert.deepEqual(Object.keys(created.body.data.attributes).sort(), ['inserted_at', 'name', 'secret_type', 'updated_at']);
    assert.equal(created.body.data.relationships.provider.data.id, providerId);

    const stored = await storedRow(secretId);
    assert.equal(stored.key_id, 'k1');
    assert.match(stored.ciphertext, /^v1\.k1\./);
    assertNoPlaintext(stored.ciphertext, 'the ciphertext column');
    for (const plaintext of [ACCESS_KEY, SECRET_KEY]) {
      assert.ok(!stored.ciphertext.includes(Buffer.from(plaintext).toString('base64url')), 'not merely encoded');
    }
    const db = await adminClient();
    try {
      const dump = await db.query('SELECT row_to_json(s)::text AS row FROM provider_secrets s');
      for (const row of dump.rows) assertNoPlaintext(row.row, 'a provider_secrets row');
    } finally {
      await db.end();
    }

    assert.deepEqual(await credentialsIn(app, admin.tenantId, providerId), { aws_access_key_id: ACCESS_KEY, aws_secret_access_key: SECRET_KEY });
    const provider = await call(admin.client, 'GET', `/api/v1/providers/${providerId}`);
    assert.deepEqual(provider.body.data.relationships.secret.data, { type: 'provider-secrets', id: secretId });
    assert.equal((await call(admin.client, 'GET', `/api/v1/providers/secrets/${secretId}`)).status, 200);
    const list = await call(admin.client, 'GET', `/api/v1/providers/secrets?filter[provider]=${providerId}`);
    assert.deepEqual(list.body.data.map((s: { id: string }) => s.id), [secretId]);
  });

  it('allows one secret per provider (409) and refuses fields the provider does not know (400 at secret/<field>)', async () => {
    const second = await call(admin.client, 'POST', '/api/v1/providers/secrets', secretBody(providerId, { aws_access_key_id: ACCESS_KEY, aws_secret_access_key: SECRET_KEY }));
    assert.equal(second.status, 409);

    const other = await createProvider(admin.client, 'aws');
    const unknownField = await call(admin.client, 'POST', '/api/v1/providers/secrets', secretBody(other, { aws_access_key_id: ACCESS_KEY, client_secret: SECRET_KEY }));
    assert.equal(unknownField.status, 400);
    const pointers = unknownField.body.errors.map((e: { source: { pointer: string } }) => e.source.pointer);
    assert.ok(pointers.includes('/data/attributes/secret/client_secret'), JSON.stringify(pointers));
    assert.ok(pointers.includes('/data/attributes/secret/aws_secret_access_key'), 'the missing field is named');

    const wrongType = await call(admin.client, 'POST', '/api/v1/providers/secrets', secretBody(other, { service_account_key: { k: SECRET_KEY } }, 'service_account'));
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.errors[0].source.pointer, '/data/attributes/secret_type');
    const notAnObject = await call(admin.client, 'POST', '/api/v1/providers/secrets', secretBody(other, SECRET_KEY));
    assert.equal(notAnObject.status, 400);
    const noProvider = await call(admin.client, 'POST', '/api/v1/providers/secrets', { data: { type: 'provider-secrets', attributes: { secret_type: 'static', secret: {} } } });
    assert.equal(noProvider.status, 400);
    const missingProvider = await call(admin.client, 'POST', '/api/v1/providers/secrets', secretBody('00000000-0000-4000-8000-000000000000', { aws_access_key_id: ACCESS_KEY, aws_secret_access_key: SECRET_KEY }));
    assert.equal(missingProvider.status, 404);
    const badType = await call(admin.client, 'POST', '/api/v1/providers/secrets', secretBody(other, {}, 'password'));
    assert.equal(badType.status, 400);
  });

  it('replaces the content on PATCH, and refuses a new secret_type without its secret', async () => {
    const renamed = await call(admin.client, 'PATCH', `/api/v1/providers/secrets/${secretId}`, {
      data: { type: 'provider-secrets', id: secretId, attributes: { name: 'renamed keys', secret: { aws_access_key_id: ACCESS_KEY, aws_secret_access_key: NEW_SECRET_KEY } } },
    });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal(renamed.body.data.attributes.name, 'renamed keys');
    assert.equal((await credentialsIn(app, admin.tenantId, providerId))?.aws_secret_access_key, NEW_SECRET_KEY);
    assertNoPlaintext((await storedRow(secretId)).ciphertext, 'the ciphertext column');

    const typeOnly = await call(admin.client, 'PATCH', `/api/v1/providers/secrets/${secretId}`, {
      data: { type: 'provider-secrets', id: secretId, attributes: { secret_type: 'role' } },
    });
    assert.equal(typeOnly.status, 400);
    assert.equal(typeOnly.body.errors[0].source.pointer, '/data/attributes/secret');
    const badContent = await call(admin.client, 'PATCH', `/api/v1/providers/secrets/${secretId}`, {
      data: { type: 'provider-secrets', id: secretId, attributes: { secret: { aws_access_key_id: ACCESS_KEY } } },
    });
    assert.equal(badContent.status, 400);
  });

  it('refuses a kubeconfig that runs a command or reads a file on the worker, at POST and at PATCH, and stores nothing', async () => {
    const kubernetes = await createProvider(admin.client, 'kubernetes', `prod-${randomBytes(4).toString('hex')}`);
    const execUser = KUBECONFIG.replace(
      '      token: eyJhbGciOiJSUzI1NiJ9.e30.c2ln\n',
      '      exec:\n        apiVersion: client.authentication.k8s.io/v1\n        command: /bin/sh\n        args: ["-c", "cat /proc/$PPID/environ > /tmp/stolen"]\n',
    );
    const refused = await call(admin.client, 'POST', '/api/v1/providers/secrets', secretBody(kubernetes, { kubeconfig_content: execUser }));
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.errors[0].source.pointer, '/data/attributes/secret/kubeconfig_content');
    assert.match(refused.body.errors[0].detail, /users\[0\]\.user\.exec/);
    assert.ok(!refused.body.errors[0].detail.includes('/bin/sh'), 'the detail does not quote the file');
    const malformed = await call(admin.client, 'POST', '/api/v1/providers/secrets', secretBody(kubernetes, { kubeconfig_content: 'users: [' }));
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.errors[0].source.pointer, '/data/attributes/secret/kubeconfig_content');
    const list = await call(admin.client, 'GET', `/api/v1/providers/secrets?filter[provider]=${kubernetes}`);
    assert.equal(list.body.data.length, 0, 'nothing was stored');

    const created = await call(admin.client, 'POST', '/api/v1/providers/secrets', secretBody(kubernetes, { kubeconfig_content: KUBECONFIG }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.data.id;
    for (const attack of [execUser, KUBECONFIG.replace('token: eyJhbGciOiJSUzI1NiJ9.e30.c2ln', 'tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token')]) {
      const patched = await call(admin.client, 'PATCH', `/api/v1/providers/secrets/${id}`, {
        data: { type: 'provider-secrets', id, attributes: { secret: { kubeconfig_content: attack } } },
      });
      assert.equal(patched.status, 400, JSON.stringify(patched.body));
      assert.equal(patched.body.errors[0].source.pointer, '/data/attributes/secret/kubeconfig_content');
    }
    assert.deepEqual(await credentialsIn(app, admin.tenantId, kubernetes), { kubeconfig_content: KUBECONFIG }, 'the stored kubeconfig is unchanged');
  });

  it('refuses a GCP key that is not a service account key (external_account reads files and URLs on the worker)', async () => {
    const gcp = await createProvider(admin.client, 'gcp', `scan-${randomBytes(4).toString('hex')}`);
    const externalAccount = {
      type: 'external_account',
      audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/provider',
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: 'https://sts.googleapis.com/v1/token',
      credential_source: { file: '/proc/1/environ' },
    };
    for (const key of [externalAccount, { ...externalAccount, credential_source: { url: 'http://169.254.169.254/computeMetadata/v1/' } }, { ...GCP_KEY, token_uri: 'http://169.254.169.254/token' }]) {
      const refused = await call(admin.client, 'POST', '/api/v1/providers/secrets', secretBody(gcp, { service_account_key: key }, 'service_account'));
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.errors[0].source.pointer, '/data/attributes/secret/service_account_key');
    }
    const accepted = await call(admin.client, 'POST', '/api/v1/providers/secrets', secretBody(gcp, { service_account_key: GCP_KEY }, 'service_account'));
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
  });

  it('binds each envelope to its row: a ciphertext copied onto another secret does not decrypt', async () => {
    const other = await createProvider(admin.client, 'aws');
    const created = await call(admin.client, 'POST', '/api/v1/providers/secrets', secretBody(other, { aws_access_key_id: 'AKIAOTHER', aws_secret_access_key: 'other-value' }));
    assert.equal(created.status, 201);
    const db = await adminClient();
    try {
      await db.query('UPDATE provider_secrets SET ciphertext = (SELECT ciphertext FROM provider_secrets WHERE id = $1) WHERE id = $2', [secretId, created.body.data.id]);
    } finally {
      await db.end();
    }
    await assert.rejects(credentialsIn(app, admin.tenantId, other), /could not be decrypted/);
  });

  it('rotates keys: a second key reads the old secrets and moves them onto itself as they change', async () => {
    const rotated = await startTestApp({ SECRETS_ENCRYPTION_KEY: `k2:${KEY_2},k1:${KEY_1}`, LOG_LEVEL: 'trace' }, undefined, logs);
    try {
      const tokens = await signIn(rotated.baseUrl, admin.email, admin.password);
      const client = new ApiClient(rotated.baseUrl, tokens.access);
      assert.equal((await credentialsIn(rotated, admin.tenantId, providerId))?.aws_secret_access_key, NEW_SECRET_KEY, 'k1 still decrypts');

      const touched = await call(client, 'PATCH', `/api/v1/providers/secrets/${secretId}`, { data: { type: 'provider-secrets', id: secretId, attributes: { name: 'rotated keys' } } });
      assert.equal(touched.status, 200, JSON.stringify(touched.body));
      const stored = await storedRow(secretId);
      assert.equal(stored.key_id, 'k2');
      assert.match(stored.ciphertext, /^v1\.k2\./);

      const fresh = await createProvider(client, 'aws');
      const created = await call(client, 'POST', '/api/v1/providers/secrets', secretBody(fresh, { aws_access_key_id: ACCESS_KEY, aws_secret_access_key: SECRET_KEY }));
      assert.equal(created.status, 201);
      assert.equal((await storedRow(created.body.data.id)).key_id, 'k2');
    } finally {
      await rotated.close();
    }
    // Once rotated, the old key can leave the keyring.
    const newKeyOnly = await startTestApp({ SECRETS_ENCRYPTION_KEY: `k2:${KEY_2}` });
    try {
      assert.deepEqual(await credentialsIn(newKeyOnly, admin.tenantId, providerId), { aws_access_key_id: ACCESS_KEY, aws_secret_access_key: NEW_SECRET_KEY });
    } finally {
      await newKeyOnly.close();
    }
  });

  it('secrets:rotate moves every secret it can read onto the new key at once, so the old keys can go', async () => {
    const KEY_3 = randomBytes(32).toString('base64');
    const providers = [await createProvider(admin.client, 'aws'), await createProvider(admin.client, 'aws')];
    const ids: string[] = [];
    for (const provider of providers) {
      const created = await call(admin.client, 'POST', '/api/v1/providers/secrets', secretBody(provider, { aws_access_key_id: ACCESS_KEY, aws_secret_access_key: SECRET_KEY }));
      assert.equal(created.status, 201);
      ids.push(created.body.data.id);
      assert.equal((await storedRow(created.body.data.id)).key_id, 'k1');
    }
    const before = await Promise.all(ids.map(storedRow));

    const db = await adminClient();
    try {
      const result = await rotateSecrets(async (sql, params) => (await db.query(sql, params)).rows, SecretCipher.fromEnv(`k3:${KEY_3},k2:${KEY_2},k1:${KEY_1}`), 2);
      assert.ok(result.rotated >= ids.length + 1, `rotated ${result.rotated}`);
      for (const id of [...ids, secretId]) assert.ok(!result.unreadable.includes(id));
    } finally {
      await db.end();
    }
    for (const [index, id] of [...ids, secretId].entries()) {
      const stored = await storedRow(id);
      assert.equal(stored.key_id, 'k3');
      assert.match(stored.ciphertext, /^v1\.k3\./);
      if (index < ids.length) assert.notEqual(stored.ciphertext, before[index].ciphertext);
      assertNoPlaintext(stored.ciphertext, 'a rotated ciphertext');
    }
    const newKeyOnly = await startTestApp({ SECRETS_ENCRYPTION_KEY: `k3:${KEY_3}` });
    try {
      for (const provider of providers) {
        assert.deepEqual(await credentialsIn(newKeyOnly, admin.tenantId, provider), { aws_access_key_id: ACCESS_KEY, aws_secret_access_key: SECRET_KEY });
      }
      assert.equal((await credentialsIn(newKeyOnly, admin.tenantId, providerId))?.aws_secret_access_key, NEW_SECRET_KEY);
    } finally {
      await newKeyOnly.close();
    }
  });

  it('deletes a secret (204); it and the provider’s link to it are gone', async () => {
    const removed = await call(admin.client, 'DELETE', `/api/v1/providers/secrets/${secretId}`);
    assert.equal(removed.status, 204);
    assert.equal((await call(admin.client, 'GET', `/api/v1/providers/secrets/${secretId}`)).status, 404);
    assert.equal((await call(admin.client, 'DELETE', `/api/v1/providers/secrets/${secretId}`)).status, 404);
    const provider = await call(admin.client, 'GET', `/api/v1/providers/${providerId}`);
    assert.equal(provider.body.data.relationships.secret?.data ?? null, null);
    assert.equal(await credentialsIn(app, admin.tenantId, providerId), null);
  });

  it('never returned or logged a secret value', async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(logs.lines.length > 20, 'trace logging captured the requests');
    for (const line of logs.lines) assertNoPlaintext(line, 'a log line');
    assert.ok(responses.length > 20);
    for (const body of responses) assertNoPlaintext(body, 'a response');
  });
});
