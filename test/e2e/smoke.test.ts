import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient, signUp } from '../support/http-client';

describe('smoke', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => app.close());

  it('signs up and reads /users/me', async () => {
    const user = await signUp(app.baseUrl, 'smoke');
    const me = await user.client.get('/api/v1/users/me');
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.data.attributes.email, user.email);
    assert.equal(me.headers.get('content-type'), 'application/vnd.api+json');
    const live = await new ApiClient(app.baseUrl).get('/health/live');
    assert.equal(live.status, 200);
  });
});
