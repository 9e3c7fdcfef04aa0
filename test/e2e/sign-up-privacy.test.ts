import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, signIn } from '../support/http-client';
import { MailCatcher, tokenIn } from '../support/mail-catcher';
import { STRONG_PASSWORD, startTestApp, type TestApp, uniqueEmail } from '../support/test-app';

const OTHER_PASSWORD = 'Intruder-Horse-5-Battery';

/** A document with every value replaced by its type: two answers with the same shape compare equal. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shape(inner)]));
  return typeof value;
}

function signUpBody(email: string, password = STRONG_PASSWORD, name = 'Sign Up Person') {
  return { data: { type: 'users', attributes: { name, email, password, company_name: 'Acme' } } };
}

/** Signing up must not tell whether an address is registered. */
describe('sign-up does not reveal existing accounts', () => {
  let mail: MailCatcher;

  before(async () => {
    mail = await MailCatcher.start();
  });
  after(async () => mail.close());

  for (const required of ['true', 'false']) {
    describe(`with EMAIL_VERIFICATION_REQUIRED=${required}`, () => {
      let app: TestApp;
      let anonymous: ApiClient;

      before(async () => {
        app = await startTestApp({ SMTP_URL: mail.url, EMAIL_VERIFICATION_REQUIRED: required });
        anonymous = new ApiClient(app.baseUrl);
      });
      after(async () => app.close());

      it('a taken address gets the answer a new one gets, and its owner gets a mail instead', async () => {
        const taken = uniqueEmail('taken');
        const first = await anonymous.post('/api/v1/users', signUpBody(taken));
        assert.equal(first.status, 201, JSON.stringify(first.body));
        if (required === 'true') {
          assert.equal((await anonymous.post('/api/v1/email-verifications', { data: { type: 'email-verifications', attributes: { token: tokenIn(await mail.next(taken)) } } })).status, 200);
        }

        const fresh = await anonymous.post('/api/v1/users', signUpBody(uniqueEmail('fresh'), OTHER_PASSWORD, 'Prober'));
        const again = await anonymous.post('/api/v1/users', signUpBody(taken.toUpperCase(), OTHER_PASSWORD, 'Prober'));
        assert.equal(again.status, fresh.status);
        assert.equal(again.status, 201);
        assert.deepEqual(shape(again.body), shape(fresh.body));
        assert.equal(again.headers.get('content-type'), fresh.headers.get('content-type'));
        assert.notEqual(again.body.data.id, first.body.data.id, 'the answer names no real account');

        const notice = await mail.next(taken);
        assert.equal(notice.subject, 'Someone tried to sign up with your address');
        // No second account, and the first one is untouched.
        assert.equal((await anonymous.post('/api/v1/tokens', { data: { type: 'tokens', attributes: { email: taken, password: OTHER_PASSWORD } } })).status, 401);
        await signIn(app.baseUrl, taken, STRONG_PASSWORD);
      });
    });
  }

  it('signing up again with an address that waits for its proof sends a fresh proof', async () => {
    const app = await startTestApp({ SMTP_URL: mail.url, EMAIL_VERIFICATION_REQUIRED: 'true' });
    try {
      const anonymous = new ApiClient(app.baseUrl);
      const pending = uniqueEmail('pending');
      assert.equal((await anonymous.post('/api/v1/users', signUpBody(pending))).status, 201);
      const lost = tokenIn(await mail.next(pending));
      assert.equal((await anonymous.post('/api/v1/users', signUpBody(pending))).status, 201);
      const resent = await mail.next(pending);
      assert.equal(resent.subject, 'Confirm your email address');
      const confirmWith = (token: string) => anonymous.post('/api/v1/email-verifications', { data: { type: 'email-verifications', attributes: { token } } });
      assert.equal((await confirmWith(lost)).status, 400, 'only the latest proof counts');
      assert.equal((await confirmWith(tokenIn(resent))).status, 200);
      await signIn(app.baseUrl, pending, STRONG_PASSWORD);
    } finally {
      await app.close();
    }
  });
});
