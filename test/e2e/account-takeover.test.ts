import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, signIn, signUp } from '../support/http-client';
import { startTestApp, type TestApp } from '../support/test-app';

const NEW_PASSWORD = 'Another-Horse-7-Staple';

function refresh(baseUrl: string, token: string) {
  return new ApiClient(baseUrl).post('/api/v1/tokens/refresh', { data: { type: 'tokens-refresh', attributes: { refresh: token } } });
}

/** What a thief holding only an access token can do to the account. */
describe('account takeover from a stolen access token', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });
  after(async () => app.close());

  it('the password cannot be changed without the current one', async () => {
    const victim = await signUp(app.baseUrl, 'victim');
    const stolen = new ApiClient(app.baseUrl, victim.access);
    const patch = (attributes: Record<string, string | null>) => stolen.patch(`/api/v1/users/${victim.userId}`, { data: { type: 'users', id: victim.userId, attributes } });

    const without = await patch({ password: NEW_PASSWORD });
    assert.equal(without.status, 400, JSON.stringify(without.body));
    assert.equal(without.body.errors[0].code, 'current_password_required');
    // Null is not "left out": it is refused, pointing at the attribute, before the password is looked at.
    const nullCurrent = await patch({ password: NEW_PASSWORD, current_password: null });
    assert.equal(nullCurrent.status, 400, JSON.stringify(nullCurrent.body));
    assert.deepEqual(nullCurrent.body.errors.map((e: { code: string; source: { pointer: string } }) => [e.code, e.source.pointer]), [['null', '/data/attributes/current_password']]);
    const nullPassword = await patch({ password: null, current_password: null });
    assert.equal(nullPassword.status, 400, JSON.stringify(nullPassword.body));
    const guessed = await patch({ password: NEW_PASSWORD, current_password: 'Guessed-Password-1!' });
    assert.equal(guessed.status, 403);
    assert.equal(guessed.body.errors[0].code, 'current_password_invalid');
    const alsoRenamed = await patch({ name: 'taken over', password: NEW_PASSWORD, current_password: 'Guessed-Password-1!' });
    assert.equal(alsoRenamed.status, 403);

    // Nothing changed: the old password signs in, the new one does not, the name is intact.
    await signIn(app.baseUrl, victim.email, victim.password);
    await assert.rejects(signIn(app.baseUrl, victim.email, NEW_PASSWORD), /401/);
    assert.notEqual((await stolen.get('/api/v1/users/me')).body.data.attributes.name, 'taken over');
  });

  it('guessing the current password with a stolen token draws on the account’s sign-in budget', async () => {
    // Four points: the victim's own sign-in takes one, the thief gets three guesses.
    const limited = await startTestApp({ TOKEN_THROTTLE_ACCOUNT_POINTS: '4', REDIS_PREFIX: `${process.env.REDIS_PREFIX}-guesses-${Date.now()}` });
    try {
      const victim = await signUp(limited.baseUrl, 'guessed');
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const guess = await victim.client.patch(`/api/v1/users/${victim.userId}`, {
          data: { type: 'users', id: victim.userId, attributes: { password: NEW_PASSWORD, current_password: `Guess-number-${i}!A` } },
        });
        statuses.push(guess.status);
      }
      assert.deepEqual(statuses, [403, 403, 403, 429, 429]);
      // The same budget: sign-in for that account is throttled too.
      const signInNow = await new ApiClient(limited.baseUrl).post('/api/v1/tokens', { data: { type: 'tokens', attributes: { email: victim.email, password: victim.password } } });
      assert.equal(signInNow.status, 429);
    } finally {
      await limited.close();
    }
  });

  it('a password change ends every session of the user, in every tenant', async () => {
    const user = await signUp(app.baseUrl, 'rotating');
    const second = await user.client.post('/api/v1/tenants', { data: { type: 'tenants', attributes: { name: 'second tenant' } } });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    const elsewhere = await signIn(app.baseUrl, user.email, user.password, second.body.data.id);
    const here = await signIn(app.baseUrl, user.email, user.password, user.tenantId);

    const changed = await user.client.patch(`/api/v1/users/${user.userId}`, {
      data: { type: 'users', id: user.userId, attributes: { password: NEW_PASSWORD, current_password: user.password } },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));

    for (const token of [user.refresh, here.refresh, elsewhere.refresh]) {
      const refused = await refresh(app.baseUrl, token);
      assert.equal(refused.status, 401, 'a refresh token issued before the change still works');
    }
    await assert.rejects(signIn(app.baseUrl, user.email, user.password), /401/);
    const fresh = await signIn(app.baseUrl, user.email, NEW_PASSWORD);
    assert.equal((await refresh(app.baseUrl, fresh.refresh)).status, 200, 'sessions begun after the change work');
  });
});
