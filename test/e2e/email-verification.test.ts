import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Client } from 'pg';
import { SmtpMailer } from '../../src/mail/mailer';
import { acceptInvitation, createProvider, createRole, invite, inviteMember, type Member } from '../support/access-fixtures';
import { adminClient } from '../support/database';
import { ApiClient, signIn, signUp, type SignedUpUser } from '../support/http-client';
import { MailCatcher, tokenIn } from '../support/mail-catcher';
import { STRONG_PASSWORD, startTestApp, type TestApp, uniqueEmail } from '../support/test-app';
import { createRule } from './rls-rules-fixtures';

function confirm(baseUrl: string, token: string) {
  return new ApiClient(baseUrl).post('/api/v1/email-verifications', { data: { type: 'email-verifications', attributes: { token } } });
}

function changeEmail(user: { client: ApiClient; userId: string }, email: string, currentPassword?: string) {
  return user.client.patch(`/api/v1/users/${user.userId}`, {
    data: { type: 'users', id: user.userId, attributes: { email, ...(currentPassword ? { current_password: currentPassword } : {}) } },
  });
}

function signUpBody(email: string, name = 'Verified Person') {
  return { data: { type: 'users', attributes: { name, email, password: STRONG_PASSWORD } } };
}

function tokenRequest(email: string, password = STRONG_PASSWORD) {
  return { data: { type: 'tokens', attributes: { email, password } } };
}

describe('email ownership', () => {
  let mail: MailCatcher;
  let admin: Client;

  before(async () => {
    mail = await MailCatcher.start();
    admin = await adminClient();
  });
  after(async () => {
    await admin.end();
    await mail.close();
  });

  it('the SMTP mailer delivers through a real SMTP server', async () => {
    const mailer = new SmtpMailer(mail.url, 'cspm <no-reply@example.com>');
    try {
      await mailer.send({ to: 'reader@example.com', subject: 'Hello there', text: 'A line of text.\n' });
    } finally {
      mailer.close();
    }
    const received = await mail.next('reader@example.com');
    assert.equal(received.from, 'no-reply@example.com');
    assert.equal(received.subject, 'Hello there');
    assert.match(received.text, /A line of text\./);
  });

  it('without SMTP_URL in development, the mail goes to the log and its token works', async () => {
    const lines: string[] = [];
    const logs = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const app = await startTestApp({ LOG_LEVEL: 'info', NODE_ENV: 'development', SMTP_URL: '' }, undefined, logs);
    try {
      const user = await signUp(app.baseUrl, 'no-smtp');
      const target = uniqueEmail('logged');
      assert.equal((await changeEmail(user, target, user.password)).status, 200);
      const logged = lines.map((line) => JSON.parse(line)).find((entry) => typeof entry.msg === 'string' && entry.msg.includes(target));
      assert.ok(logged, 'the mail is logged');
      const token = /token: ([A-Za-z0-9_-]{43})/.exec(logged.msg)?.[1];
      assert.ok(token, logged.msg);
      assert.equal((await confirm(app.baseUrl, token)).status, 200);
      assert.equal((await user.client.get('/api/v1/users/me')).body.data.attributes.email, target);
    } finally {
      await app.close();
    }
  });

  describe('a row filter rule on {{ current_user_email }}', () => {
    let app: TestApp;
    let owner: SignedUpUser;
    let analyst: Member;
    const teamAlias = uniqueEmail('team-b-alias');

    before(async () => {
      app = await startTestApp({ SMTP_URL: mail.url });
      owner = await signUp(app.baseUrl, 'rule-owner');
      const analystRole = await createRole(owner.client, { unlimited_visibility: true }, 'analyst');
      analyst = await inviteMember(app.baseUrl, owner, [analystRole], 'analyst');
      await createProvider(owner.client, 'aws', undefined, analyst.email);
      await createProvider(owner.client, 'aws', undefined, teamAlias);
      await createRule(owner.client, { clause: 'alias = {{ current_user_email }}', roles: [analystRole] });
    });
    after(async () => app.close());

    async function visibleAliases(): Promise<string[]> {
      const listed = await analyst.client.get('/api/v1/providers');
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      return listed.body.data.map((p: { attributes: { alias: string } }) => p.attributes.alias);
    }

    it('cannot be steered by changing one’s email to another team’s alias: the address counts only once its owner confirms it', async () => {
      assert.deepEqual(await visibleAliases(), [analyst.email]);

      // The attack: the analyst takes the other team's alias as their email.
      const changed = await changeEmail(analyst, teamAlias, analyst.password);
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.equal(changed.body.data.attributes.email, analyst.email, 'the address does not change before it is confirmed');
      assert.equal(changed.body.meta.email_verification_sent_to, teamAlias);
      assert.deepEqual(await visibleAliases(), [analyst.email], 'the rule still sees the verified address');
      assert.equal((await new ApiClient(app.baseUrl).post('/api/v1/tokens', tokenRequest(teamAlias, analyst.password))).status, 401);

      // The proof went to the alias's mailbox, which the analyst cannot read; whoever can, confirms.
      const sent = await mail.next(teamAlias);
      assert.equal(sent.subject, 'Confirm your new email address');
      const confirmed = await confirm(app.baseUrl, tokenIn(sent));
      assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
      assert.equal(confirmed.body.data.attributes.email, teamAlias);
      assert.deepEqual(await visibleAliases(), [teamAlias], 'a confirmed address counts');
      assert.equal((await confirm(app.baseUrl, tokenIn(sent))).status, 400, 'a token works once');
    });

    it('an unverified email matches nothing', async () => {
      const role = await createRole(owner.client, { unlimited_visibility: true }, 'unverified');
      const user = await inviteMember(app.baseUrl, owner, [role], 'unverified');
      await createProvider(owner.client, 'aws', undefined, user.email);
      await createRule(owner.client, { clause: 'alias = {{ current_user_email }}', roles: [role] });
      const before = await user.client.get('/api/v1/providers');
      assert.deepEqual(before.body.data.map((p: { attributes: { alias: string } }) => p.attributes.alias), [user.email]);
      await admin.query(`UPDATE users SET email_verified_at = NULL WHERE id = $1`, [user.userId]);
      const after = await user.client.get('/api/v1/providers');
      assert.equal(after.status, 200);
      assert.deepEqual(after.body.data, []);
    });
  });

  describe('with EMAIL_VERIFICATION_REQUIRED', () => {
    let app: TestApp;
    let anonymous: ApiClient;

    before(async () => {
      app = await startTestApp({ SMTP_URL: mail.url, EMAIL_VERIFICATION_REQUIRED: 'true' });
      anonymous = new ApiClient(app.baseUrl);
    });
    after(async () => app.close());

    /** Signs up and confirms through the mailed token, as a person would. */
    async function verifiedUser(label: string): Promise<SignedUpUser> {
      const email = uniqueEmail(label);
      assert.equal((await anonymous.post('/api/v1/users', signUpBody(email))).status, 201);
      assert.equal((await confirm(app.baseUrl, tokenIn(await mail.next(email)))).status, 200);
      const tokens = await signIn(app.baseUrl, email, STRONG_PASSWORD);
      const client = new ApiClient(app.baseUrl, tokens.access);
      const me = await client.get('/api/v1/users/me');
      const tenantId = JSON.parse(Buffer.from(tokens.access.split('.')[1], 'base64url').toString()).tenant_id;
      return { client, userId: me.body.data.id, tenantId, email, password: STRONG_PASSWORD, ...tokens };
    }

    it('sign-in waits for the sign-up address to be confirmed', async () => {
      const email = uniqueEmail('pending');
      const created = await anonymous.post('/api/v1/users', signUpBody(email));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const early = await anonymous.post('/api/v1/tokens', tokenRequest(email));
      assert.equal(early.status, 403);
      assert.equal(early.body.errors[0].code, 'email_not_verified');
      // Only the password's holder hears why: a wrong password is the usual 401.
      assert.equal((await anonymous.post('/api/v1/tokens', tokenRequest(email, 'Wrong-Password-123!'))).status, 401);

      const sent = await mail.next(email);
      assert.equal(sent.subject, 'Confirm your email address');
      assert.equal((await confirm(app.baseUrl, 'not-a-token')).status, 400);
      const confirmed = await confirm(app.baseUrl, tokenIn(sent));
      assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
      assert.equal(confirmed.body.data.attributes.purpose, 'sign_up');
      assert.equal((await anonymous.post('/api/v1/tokens', tokenRequest(email))).status, 200);
    });

    it('an address nobody confirmed neither signs in nor accepts an invitation sent to it', async () => {
      const owner = await verifiedUser('inviting-owner');
      const victimEmail = uniqueEmail('victim');
      // The stranger registers the victim's address and never sees the mail sent to it.
      assert.equal((await anonymous.post('/api/v1/users', signUpBody(victimEmail, 'Stranger'))).status, 201);
      assert.equal(mail.to(victimEmail).length, 1);
      assert.equal((await anonymous.post('/api/v1/tokens', tokenRequest(victimEmail))).status, 403);

      // A verified user who asks to move to an invited address cannot use the invitation before confirming it.
      const invited = uniqueEmail('invited');
      const { token } = await invite(owner.client, invited, []);
      const squatter = await verifiedUser('squatter');
      assert.equal((await changeEmail(squatter, invited, squatter.password)).status, 200);
      const accepted = await acceptInvitation(squatter.client, token);
      assert.equal(accepted.status, 404, JSON.stringify(accepted.body));
    });

    it('an email change needs the current password and the new address’s confirmation', async () => {
      const user = await verifiedUser('mover');
      const target = uniqueEmail('moved');
      const noPassword = await changeEmail(user, target);
      assert.equal(noPassword.status, 400);
      assert.equal(noPassword.body.errors[0].source.pointer, '/data/attributes/current_password');
      assert.equal((await changeEmail(user, target, 'Wrong-Password-123!')).status, 403);
      assert.deepEqual(mail.to(target), [], 'no proof is sent without the password');

      assert.equal((await changeEmail(user, target, user.password)).status, 200);
      const proof = tokenIn(await mail.next(target));
      assert.equal((await anonymous.post('/api/v1/tokens', tokenRequest(target))).status, 401, 'not before confirmation');
      assert.equal((await confirm(app.baseUrl, proof)).status, 200);
      assert.equal((await anonymous.post('/api/v1/tokens', tokenRequest(target))).status, 200);
      assert.equal((await anonymous.post('/api/v1/tokens', tokenRequest(user.email))).status, 401, 'the old address no longer signs in');
      // Resending the unchanged address (as a profile form does) needs no password.
      const same = await user.client.patch(`/api/v1/users/${user.userId}`, { data: { type: 'users', id: user.userId, attributes: { name: 'Same Address', email: target.toUpperCase() } } });
      assert.equal(same.status, 200, JSON.stringify(same.body));
    });
  });
});
