import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import Redis from 'ioredis';

/** How long a sign-in started here may take at the IdP before its answer is refused. */
export const SAML_REQUEST_TTL_MS = 10 * 60 * 1000;

/**
 * node-saml's store of the AuthnRequest ids this SP issued, in Redis, so the
 * IdP's answer (its InResponseTo) is accepted by whichever API process
 * receives it, once.
 */
export class RedisSamlRequestCache implements CacheProvider {
  constructor(private readonly redis: Redis) {}

  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    const createdAt = Date.now();
    const stored = await this.redis.set(`saml:request:${key}`, JSON.stringify({ value, createdAt }), 'PX', SAML_REQUEST_TTL_MS, 'NX');
    return stored === 'OK' ? { value, createdAt } : null;
  }

  async getAsync(key: string): Promise<string | null> {
    const raw = await this.redis.get(`saml:request:${key}`);
    return raw ? (JSON.parse(raw) as CacheItem).value : null;
  }

  async removeAsync(key: string | null): Promise<string | null> {
    if (key === null) return null;
    const removed = await this.redis.getdel(`saml:request:${key}`);
    return removed ? (JSON.parse(removed) as CacheItem).value : null;
  }
}
