import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, signUp, type SignedUpUser } from '../support/http-client';
import { STRONG_PASSWORD, startTestApp, type TestApp, uniqueEmail } from '../support/test-app';

/** Each test gets its own Redis keys, so budgets spent by one test or file never reach another. */
function ownPrefix(label: string): string {
  return `${process.env.REDIS_PREFIX}-${label}-${Date.now()}`;
}

function tokenAttempt(client: ApiClient, email: string, forwardedFor?: string) {
  return client.request(
    'POST',
    '/api/v1/tokens',
    { data: { type: 'tokens', attributes: { email, password: 'Wrong-password-123!' } } },
    forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
  );
}

describe('throttles of the public endpoints', () => {
  let app: TestApp;
  let victim: SignedUpUser;

  before(async () => {
    app = await startTestApp();
    victim = await signUp(app.baseUrl, 'throttled-victim');
  });
  after(async () => app.close());

  describe('with TRUST_PROXY=1 (one proxy in front)', () => {
    let proxied: TestApp;
    let client: ApiClient;

    before(async () => {
      proxied = await startTestApp({
        TRUST_PROXY: '1',
        TOKEN_THROTTLE_POINTS: '5',
        TOKEN_THROTTLE_ACCOUNT_POINTS: '3',
        TOKEN_THROTTLE_WINDOW_SECONDS: '60',
        REDIS_PREFIX: ownPrefix('proxy'),
      });
      client = new ApiClient(proxied.baseUrl);
    });
    after(async () => proxied.close());

    it('rotating X-Forwarded-For does not escape the per-account budget', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        // A new forged client address each time, and the email in another case or with spaces.
        const email = i % 2 === 0 ? victim.email.toUpperCase() : ` ${victim.email} `;
        const result = await tokenAttempt(client, email, `198.51.100.${i + 1}`);
        statuses.push(result.status);
        if (result.status === 429) assert.equal(result.body.errors[0].code, 'throttled');
      }
      assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429, 429, 429]);
    });

    it('the per-address budget counts the address the proxy forwarded', async () => {
      const statuses: number[] = [];
      // Different accounts from one forwarded address: the address's budget of 5 runs out.
      for (let i = 0; i < 7; i++) statuses.push((await tokenAttempt(client, uniqueEmail('spray'), '203.0.113.7')).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
      // Another client behind the same proxy keeps its own budget.
      assert.equal((await tokenAttempt(client, uniqueEmail('spray'), '203.0.113.8')).status, 401);
    });
  });

  it('sign-up is throttled per address', async () => {
    const limited = await startTestApp({ SIGNUP_THROTTLE_POINTS: '3', SIGNUP_THROTTLE_WINDOW_SECONDS: '3600', REDIS_PREFIX: ownPrefix('sign-up') });
    try {
      const anonymous = new ApiClient(limited.baseUrl);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const result = await anonymous.post('/api/v1/users', {
          data: { type: 'users', attributes: { name: 'Many Accounts', email: uniqueEmail('bulk'), password: STRONG_PASSWORD } },
        });
        statuses.push(result.status);
        if (result.status === 429) {
          assert.equal(result.body.errors[0].code, 'throttled');
          assert.ok(Number(result.headers.get('retry-after')) >= 1);
        }
      }
      assert.deepEqual(statuses, [201, 201, 201, 429, 429]);
    } finally {
      await limited.close();
    }
  });
});
