import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { resolveLocalRedis } from '../../src/dev/local-redis';
import { freePort } from '../support/api-process';

describe('finding Redis for a local start', () => {
  it('uses REDIS_URL when set', async () => {
    const redis = await resolveLocalRedis(0, () => undefined, 'redis://127.0.0.1:1', 'redis://example.invalid:6379');
    assert.equal(redis.url, 'redis://example.invalid:6379');
  });

  it('uses the standard address when it answers', async () => {
    const redis = await resolveLocalRedis(0, () => undefined, process.env.REDIS_URL, '');
    assert.equal(redis.url, process.env.REDIS_URL);
  });

  it('starts a redis-server from PATH when nothing answers, and stops it', async () => {
    const closed = await freePort();
    const port = await freePort();
    const messages: string[] = [];
    const redis = await resolveLocalRedis(port, (m) => messages.push(m), `redis://127.0.0.1:${closed}`, '');
    try {
      assert.equal(redis.url, `redis://127.0.0.1:${port}`);
      const client = new Redis(redis.url);
      assert.equal(await client.ping(), 'PONG');
      client.disconnect();
      assert.ok(messages.some((m) => m.includes('redis-server')));
    } finally {
      await redis.stop();
    }
  });
});
