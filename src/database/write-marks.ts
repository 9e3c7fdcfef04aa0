import type Redis from 'ioredis';
import type { ReadWriteSession } from './tenant-context';
import { lsnFromKeyText, lsnKeyText, WalPosition } from './wal-position';

/** Keeps the larger of the stored and the given position (fixed-width hex compares as text) and renews the expiry. */
const REMEMBER_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if (not current) or current < ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1`;

interface MarkCommands {
  rememberWalPosition(key: string, position: string, ttlMs: number): Promise<number>;
}

/**
 * The WAL position of each user's latest committed write, in Redis so that
 * every API process sees it: under the tenant the write was made in, or
 * under the user alone for what they did across tenants. Both keys share a
 * hash tag (the user id), so one MGET reads them, on one server or a cluster.
 * A mark expires once any replica still in use must have replayed it.
 */
export class WriteMarks {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
  ) {
    if (!(redis as unknown as Partial<MarkCommands>).rememberWalPosition) {
      redis.defineCommand('rememberWalPosition', { numberOfKeys: 1, lua: REMEMBER_SCRIPT });
    }
  }

  async remember(session: ReadWriteSession, position: WalPosition): Promise<void> {
    const key = session.acrossTenants ? userKey(session.userId) : tenantKey(session.userId, session.tenantId);
    await (this.redis as unknown as MarkCommands).rememberWalPosition(key, lsnKeyText(position), this.ttlMs);
  }

  /** The latest position this user wrote at, in this tenant or across tenants; null when no mark is live. */
  async latest(session: ReadWriteSession): Promise<WalPosition | null> {
    const values = await this.redis.mget(tenantKey(session.userId, session.tenantId), userKey(session.userId));
    let latest: WalPosition | null = null;
    for (const value of values) {
      const position = value === null ? null : lsnFromKeyText(value);
      if (position !== null && (latest === null || position > latest)) latest = position;
    }
    return latest;
  }
}

function tenantKey(userId: string, tenantId: string): string {
  return `read-your-writes:{${userId}}:${tenantId}`;
}

function userKey(userId: string): string {
  return `read-your-writes:{${userId}}:all-tenants`;
}
