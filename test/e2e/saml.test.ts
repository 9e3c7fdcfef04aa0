import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient, HttpResult, SignedUpUser, signUp } from '../support/http-client';
import { memberWith } from '../support/access-fixtures';
import { TestIdp } from '../support/saml-idp';

const API_BASE = 'https://api.example.test';

async function postForm(baseUrl: string, path: string, fields: Record<string, string>): Promise<HttpResult> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON.
  }
  return { status: response.status, headers: response.headers, body };
}

describe('SAML single sign-on', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  let anonymous: ApiClient;
  const idp = new TestIdp();
  const domain = `acme-${randomBytes(4).toString('hex')}.example`;
  const acs = `${API_BASE}/api/v1/accounts/saml/${domain}/acs/`;
  const audience = `${API_BASE}/api/v1/accounts/saml/${domain}/metadata/`;

  /** What Prowler's sign-in page sends, then the AuthnRequest id the IdP would answer. */
  async function initiate(email: string): Promise<{ status: number; location: string | null; requestId: string }> {
    const response = await fetch(`${app.baseUrl}/api/v1/auth/saml/initiate/`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.api+json' },
      body: JSON.stringify({ data: { type: 'saml-initiate', attributes: { email_domain: email } } }),
      redirect: 'manual',
    });
    const location = response.headers.get('location');
    return { status: response.status, location, requestId: location ? TestIdp.readRequest(location).id : '' };
  }

  async function signInThroughIdp(email: string, bend: Partial<Parameters<TestIdp['response']>[0]> = {}) {
    const { requestId } = await initiate(email);
    const samlResponse = idp.response({ email, audience, recipient: acs, inResponseTo: requestId, ...bend });
    return { samlResponse, result: await postForm(app.baseUrl, `/api/v1/accounts/saml/${domain}/acs/`, { SAMLResponse: samlResponse, RelayState: '' }) };
  }

  before(async () => {
    app = await startTestApp({ API_BASE_URL: API_BASE });
    owner = await signUp(app.baseUrl, 'saml-admin');
    anonymous = new ApiClient(app.baseUrl);
    const created = await owner.client.post('/api/v1/saml-config', { data: { type: 'saml-configurations', attributes: { email_domain: domain, metadata_xml: idp.metadata() } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  });
  after(async () => app.close());

  describe('configuration', () => {
    it('checks the metadata when written: malformed XML or no signing certificate is 400 at metadata_xml', async () => {
      const other = await signUp(app.baseUrl, 'saml-config');
      const attempt = (metadata_xml: string, email_domain = `x${randomBytes(3).toString('hex')}.example`) =>
        other.client.post('/api/v1/saml-config', { data: { type: 'saml-configurations', attributes: { email_domain, metadata_xml } } });
      for (const bad of ['<md:EntityDescriptor', 'not xml at all', idp.metadata({ withCertificate: false }), idp.metadata().replace(idp.certificateBase64, 'bm90IGEgY2VydA==')]) {
        const refused = await attempt(bad);
        assert.equal(refused.status, 400, `${bad.slice(0, 40)}: ${JSON.stringify(refused.body)}`);
        assert.equal(refused.body.errors[0].source.pointer, '/data/attributes/metadata_xml');
      }
      const taken = await attempt(idp.metadata(), domain);
      assert.equal(taken.status, 409, 'the domain belongs to another tenant');
      assert.equal(taken.body.errors[0].source.pointer, '/data/attributes/email_domain');
    });

    it('reads, changes and deletes per tenant, with manage_integrations', async () => {
      const tenant = await signUp(app.baseUrl, 'saml-crud');
      const own = `own-${randomBytes(3).toString('hex')}.example`;
      const created = await tenant.client.post('/api/v1/saml-config', { data: { type: 'saml-configurations', attributes: { email_domain: own.toUpperCase(), metadata_xml: idp.metadata() } } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.data.id;
      assert.equal(created.body.data.attributes.email_domain, own);
      const listed = await tenant.client.get('/api/v1/saml-config');
      assert.deepEqual(listed.body.data.map((c: any) => c.id), [id]);
      assert.equal((await owner.client.get(`/api/v1/saml-config/${id}`)).status, 404, 'another tenant does not see it');
      const second = await tenant.client.post('/api/v1/saml-config', { data: { type: 'saml-configurations', attributes: { email_domain: `b${own}`, metadata_xml: idp.metadata() } } });
      assert.equal(second.status, 409);
      const patched = await tenant.client.patch(`/api/v1/saml-config/${id}`, { data: { type: 'saml-configurations', id, attributes: { metadata_xml: '<broken' } } });
      assert.equal(patched.status, 400);
      const renamed = await tenant.client.patch(`/api/v1/saml-config/${id}`, { data: { type: 'saml-configurations', id, attributes: { email_domain: `new-${own}` } } });
      assert.equal(renamed.status, 200);
      const member = await memberWith(app.baseUrl, tenant, { manage_account: true, unlimited_visibility: true }, 'saml-no-integrations');
      assert.equal((await member.client.get('/api/v1/saml-config')).status, 403);
      assert.equal((await tenant.client.delete(`/api/v1/saml-config/${id}`)).status, 204);
      assert.equal((await tenant.client.get(`/api/v1/saml-config/${id}`)).status, 404);
    });
  });

  describe('sign-in', () => {
    it('initiate redirects to the IdP with a request for this SP; an unknown domain is 403', async () => {
      const started = await initiate(`someone@${domain}`);
      assert.equal(started.status, 302);
      assert.ok(started.location!.startsWith(`${idp.ssoUrl}?SAMLRequest=`), started.location!);
      const request = TestIdp.readRequest(started.location!);
      assert.equal(request.acs, acs);
      assert.equal(request.issuer, audience);
      assert.equal((await initiate('someone@nobody-configured.example')).status, 403);
    });

    it('a signed assertion signs in a new user with a membership and the default role, answering tokens as POST /tokens does', async () => {
      const email = `ada-${randomBytes(3).toString('hex')}@${domain}`;
      const { result } = await signInThroughIdp(email);
      assert.equal(result.status, 200, JSON.stringify(result.body));
      assert.equal(result.body.data.type, 'tokens');
      const { access, refresh } = result.body.data.attributes;
      assert.ok(access && refresh);
      const claims = JSON.parse(Buffer.from(access.split('.')[1], 'base64url').toString());
      assert.equal(claims.tenant_id, owner.tenantId);
      const me = await anonymous.withToken(access).get('/api/v1/users/me?include=roles');
      assert.equal(me.status, 200);
      assert.equal(me.body.data.attributes.email, email);
      const roles = me.body.included.filter((r: any) => r.type === 'roles');
      assert.equal(roles.length, 1);
      assert.equal(roles[0].attributes.name, 'read_only');
      assert.equal(roles[0].attributes.unlimited_visibility, true);
      assert.equal(roles[0].attributes.manage_account, false);
      assert.equal((await anonymous.withToken(access).get('/api/v1/providers')).status, 200);
      assert.equal((await anonymous.withToken(access).get('/api/v1/saml-config')).status, 403);

      // The same person again: the same user, no second membership.
      const again = await signInThroughIdp(email);
      assert.equal(again.result.status, 200);
      const secondClaims = JSON.parse(Buffer.from(again.result.body.data.attributes.access.split('.')[1], 'base64url').toString());
      assert.equal(secondClaims.sub, claims.sub);
      const memberships = await anonymous.withToken(access).get(`/api/v1/users/${claims.sub}/memberships`);
      assert.equal(memberships.body.data.length, 1);
    });

    it('refuses a tampered assertion', async () => {
      const { requestId } = await initiate(`eve@${domain}`);
      const signed = Buffer.from(idp.response({ email: `eve@${domain}`, audience, recipient: acs, inResponseTo: requestId }), 'base64').toString('utf8');
      const tampered = Buffer.from(signed.replaceAll(`eve@${domain}`, `boss@${domain}`)).toString('base64');
      const result = await postForm(app.baseUrl, `/api/v1/accounts/saml/${domain}/acs/`, { SAMLResponse: tampered });
      assert.equal(result.status, 401, JSON.stringify(result.body));
    });

    it('refuses an assertion signed by another key', async () => {
      const otherKey = execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']).toString();
      const { result } = await signInThroughIdp(`mallory@${domain}`, { signWith: otherKey });
      assert.equal(result.status, 401);
    });

    it('refuses an assertion for another audience', async () => {
      const { result } = await signInThroughIdp(`bob@${domain}`, { audience: 'https://another-sp.example/metadata/' });
      assert.equal(result.status, 401);
    });

    it('refuses an assertion addressed to another recipient', async () => {
      const { result } = await signInThroughIdp(`carol@${domain}`, { recipient: 'https://another-sp.example/acs/' });
      assert.equal(result.status, 401);
    });

    it('refuses an expired assertion, and one not yet valid', async () => {
      const hourAgo = new Date(Date.now() - 60 * 60_000);
      const expired = await signInThroughIdp(`dave@${domain}`, { notBefore: new Date(hourAgo.getTime() - 60_000), notOnOrAfter: hourAgo });
      assert.equal(expired.result.status, 401);
      const inAnHour = new Date(Date.now() + 60 * 60_000);
      const early = await signInThroughIdp(`dave@${domain}`, { notBefore: inAnHour, notOnOrAfter: new Date(inAnHour.getTime() + 60_000) });
      assert.equal(early.result.status, 401);
    });

    it('refuses a replayed assertion, even answering a fresh request', async () => {
      const email = `frank@${domain}`;
      const first = await signInThroughIdp(email);
      assert.equal(first.result.status, 200);
      const replayed = await postForm(app.baseUrl, `/api/v1/accounts/saml/${domain}/acs/`, { SAMLResponse: first.samlResponse });
      assert.equal(replayed.status, 401);
      // The same assertion id again, though it answers a new request: the replay cache refuses it.
      const assertionId = /<saml:Assertion [^>]*ID="([^"]+)"/.exec(Buffer.from(first.samlResponse, 'base64').toString())![1];
      const reused = await signInThroughIdp(email, { assertionId });
      assert.equal(reused.result.status, 401);
    });

    it('refuses a response answering no request of this SP, and an address outside the domain', async () => {
      const unsolicited = idp.response({ email: `gina@${domain}`, audience, recipient: acs, inResponseTo: '_never-issued' });
      assert.equal((await postForm(app.baseUrl, `/api/v1/accounts/saml/${domain}/acs/`, { SAMLResponse: unsolicited })).status, 401);
      const outsider = await signInThroughIdp('intruder@elsewhere.example');
      assert.equal(outsider.result.status, 401);
      assert.equal((await postForm(app.baseUrl, `/api/v1/accounts/saml/${domain}/acs/`, { SAMLResponse: 'not base64 xml' })).status, 401);
      assert.equal((await postForm(app.baseUrl, `/api/v1/accounts/saml/${domain}/acs/`, {})).status, 401);
    });
  });

  it('with SAML_SSO_CALLBACK_URL, redirects to the UI with a one-time id that POST /tokens/saml exchanges once', async () => {
    const withCallback = await startTestApp({ API_BASE_URL: API_BASE, SAML_SSO_CALLBACK_URL: 'https://ui.example.test/api/auth/callback/saml' });
    try {
      const email = `hana@${domain}`;
      const started = await fetch(`${withCallback.baseUrl}/api/v1/auth/saml/initiate/`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.api+json' },
        body: JSON.stringify({ data: { type: 'saml-initiate', attributes: { email_domain: email } } }),
        redirect: 'manual',
      });
      const requestId = TestIdp.readRequest(started.headers.get('location')!).id;
      const samlResponse = idp.response({ email, audience, recipient: acs, inResponseTo: requestId });
      const finished = await postForm(withCallback.baseUrl, `/api/v1/accounts/saml/${domain}/acs/`, { SAMLResponse: samlResponse });
      assert.equal(finished.status, 302);
      const location = new URL(finished.headers.get('location')!);
      assert.equal(`${location.origin}${location.pathname}`, 'https://ui.example.test/api/auth/callback/saml');
      const id = location.searchParams.get('id')!;
      const client = new ApiClient(withCallback.baseUrl);
      const exchanged = await client.post(`/api/v1/tokens/saml?id=${id}`);
      assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
      assert.ok(exchanged.body.data.access && exchanged.body.data.refresh);
      assert.equal((await client.withToken(exchanged.body.data.access).get('/api/v1/users/me')).body.data.attributes.email, email);
      assert.equal((await client.post(`/api/v1/tokens/saml?id=${id}`)).status, 404);
    } finally {
      await withCallback.close();
    }
  });

  it('spends the token endpoints’ per-address budget: a flood of sign-in starts is 429', async () => {
    const limited = await startTestApp({ API_BASE_URL: API_BASE, TOKEN_THROTTLE_POINTS: '3', REDIS_PREFIX: `${process.env.REDIS_PREFIX}-samlthrottle` });
    try {
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        const response = await fetch(`${limited.baseUrl}/api/v1/auth/saml/initiate/`, {
          method: 'POST',
          headers: { 'content-type': 'application/vnd.api+json' },
          body: JSON.stringify({ data: { type: 'saml-initiate', attributes: { email_domain: `someone@${domain}` } } }),
          redirect: 'manual',
        });
        statuses.push(response.status);
      }
      assert.deepEqual(statuses, [302, 302, 302, 429, 429]);
      const consumer = await postForm(limited.baseUrl, `/api/v1/accounts/saml/${domain}/acs/`, { SAMLResponse: 'x' });
      assert.equal(consumer.status, 429);
    } finally {
      await limited.close();
    }
  });
});
