import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient, SignedUpUser, signIn, signUp } from '../support/http-client';

function claims(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

describe('tokens', () => {
  let app: TestApp;
  let user: SignedUpUser;
  let anonymous: ApiClient;

  before(async () => {
    app = await startTestApp();
    user = await signUp(app.baseUrl, 'tokens');
    anonymous = new ApiClient(app.baseUrl);
  });
  after(async () => app.close());

  it('access tokens last 30 minutes and refresh tokens 24 hours, signed with the pinned algorithm', () => {
    const access = claims(user.access);
    const refresh = claims(user.refresh);
    assert.equal(access.exp - access.iat, 30 * 60);
    assert.equal(refresh.exp - refresh.iat, 24 * 60 * 60);
    assert.equal(JSON.parse(Buffer.from(user.access.split('.')[0], 'base64url').toString()).alg, 'HS256');
    assert.equal(access.tenant_id, user.tenantId);
  });

  it('a wrong password or unknown email is 401 with the same message', async () => {
    const wrong = await anonymous.post('/api/v1/tokens', { data: { type: 'tokens', attributes: { email: user.email, password: 'Wrong-password-123' } } });
    const unknown = await anonymous.post('/api/v1/tokens', { data: { type: 'tokens', attributes: { email: 'nobody@example.com', password: 'Wrong-password-123' } } });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.body.errors[0].detail, unknown.body.errors[0].detail);
  });

  it('refresh rotates: the new pair works, the old refresh token is refused, and reuse ends the family', async () => {
    const pair = await signIn(app.baseUrl, user.email, user.password);
    const first = await anonymous.post('/api/v1/tokens/refresh', { data: { type: 'tokens-refresh', attributes: { refresh: pair.refresh } } });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const next = first.body.data.attributes;
    assert.notEqual(next.refresh, pair.refresh);
    assert.equal((await anonymous.withToken(next.access).get('/api/v1/users/me')).status, 200);

    const reused = await anonymous.post('/api/v1/tokens/refresh', { data: { type: 'tokens-refresh', attributes: { refresh: pair.refresh } } });
    assert.equal(reused.status, 401);
    // The reuse revoked the family, so the legitimately rotated token stops working too.
    const afterReuse = await anonymous.post('/api/v1/tokens/refresh', { data: { type: 'tokens-refresh', attributes: { refresh: next.refresh } } });
    assert.equal(afterReuse.status, 401);
  });

  it('an access token is not accepted as a refresh token, nor garbage', async () => {
    const asRefresh = await anonymous.post('/api/v1/tokens/refresh', { data: { type: 'tokens-refresh', attributes: { refresh: user.access } } });
    assert.equal(asRefresh.status, 401);
    const garbage = await anonymous.post('/api/v1/tokens/refresh', { data: { type: 'tokens-refresh', attributes: { refresh: 'a.b.c' } } });
    assert.equal(garbage.status, 401);
  });

  it('sign-in can pick a tenant the user belongs to, and refuses one they do not', async () => {
    const other = await signUp(app.baseUrl, 'tokens-other');
    const refused = await anonymous.post('/api/v1/tokens', { data: { type: 'tokens', attributes: { email: user.email, password: user.password, tenant_id: other.tenantId } } });
    assert.equal(refused.status, 400);
    const chosen = await signIn(app.baseUrl, user.email, user.password, user.tenantId);
    assert.equal(claims(chosen.access).tenant_id, user.tenantId);
  });

  it('the token throttle is shared by two API processes through Redis', async () => {
    const limited = { TOKEN_THROTTLE_POINTS: '5', TOKEN_THROTTLE_WINDOW_SECONDS: '60', REDIS_PREFIX: `${process.env.REDIS_PREFIX}-throttle` };
    const first = await startTestApp(limited);
    const second = await startTestApp(limited);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const target = new ApiClient(i % 2 === 0 ? first.baseUrl : second.baseUrl);
        const result = await target.post('/api/v1/tokens', { data: { type: 'tokens', attributes: { email: user.email, password: 'Wrong-password-123' } } });
        statuses.push(result.status);
        if (result.status === 429) {
          assert.ok(Number(result.headers.get('retry-after')) >= 1);
          assert.equal(result.body.errors[0].code, 'throttled');
        }
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    } finally {
      await first.close();
      await second.close();
    }
  });
});
