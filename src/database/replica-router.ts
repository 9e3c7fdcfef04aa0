import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Redis from 'ioredis';
import { Counter, Gauge } from 'prom-client';
import type { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { REDIS } from '../redis/redis.module';
import { APP_DATA_SOURCE, REPLICA_DATA_SOURCE } from './data-source-names';
import { currentContext, ReadWriteSession, runWithContext } from './tenant-context';
import { parseLsn, WalPosition } from './wal-position';
import { WriteMarks } from './write-marks';

export type ReadTarget = 'replica' | 'primary';
type ReplicaState = 'unknown' | 'up' | 'lagging' | 'down';

/** How often each API process reads the replica's replayed position and the primary's current one. */
export const REPLICA_POLL_INTERVAL_MS = 200;
/** A replica that does not answer the poll within this is taken as down. */
const POLL_TIMEOUT_MS = 1000;

/**
 * Where a read-only request reads, when DATABASE_REPLICA_URL names a server
 * of its own:
 * - the primary while the replica is down, unreachable, or further behind
 *   than REPLICA_MAX_LAG_MS (a poll every REPLICA_POLL_INTERVAL_MS decides,
 *   and a read that meets a dead replica marks it down at once);
 * - the primary while the replica has not replayed this user's latest write
 *   (its WAL position, kept in Redis by WriteMarks), so a user always reads
 *   their own writes, whichever API process served the write;
 * - the replica otherwise.
 * The lag is measured, not asked of the replica: each poll records the
 * primary's WAL position with the time it was read, and the lag is the age
 * of the newest such position the replica has replayed, an upper bound of
 * how old the data it serves may be.
 */
@Injectable()
export class ReplicaRouter implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ReplicaRouter');
  /** False: DATABASE_REPLICA_URL is unset or the primary's own; the replica pool is the primary and nothing is routed. */
  readonly configured: boolean;
  /** This process routes reads and polls the replica: a replica is configured and Redis keeps the marks (not a worker). */
  readonly routes: boolean;
  private readonly marks: WriteMarks | null;
  private readonly maxLagMs: number;
  private state: ReplicaState = 'unknown';
  private stateReason = 'not polled yet';
  private replayed: WalPosition | null = null;
  private lagMs = Number.POSITIVE_INFINITY;
  /** The primary's WAL position as read at each poll, oldest first. */
  private samples: Array<{ at: number; position: WalPosition }> = [];
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  /** Routed reads, counted by target and reason; registered by Metrics. */
  readonly reads = new Counter({
    name: 'db_replica_routed_reads_total',
    help: 'Read-only requests by where they read (replica or primary) and why.',
    labelNames: ['target', 'reason'],
    registers: [],
  });
  readonly outages = new Counter({
    name: 'db_replica_outages_total',
    help: 'Times the replica was found down, unreachable or lagging past REPLICA_MAX_LAG_MS, so reads went to the primary.',
    labelNames: ['reason'],
    registers: [],
  });
  readonly available: Gauge;
  readonly lag: Gauge;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectDataSource(APP_DATA_SOURCE) private readonly primary: DataSource,
    @InjectDataSource(REPLICA_DATA_SOURCE) private readonly replica: DataSource,
    @Optional() @Inject(REDIS) redis?: Redis,
  ) {
    this.configured = config.database.replicaConfigured;
    this.maxLagMs = config.database.replicaMaxLagMs;
    // A mark must outlive the time a replica in use may need to replay it: the lag limit, plus a poll's age.
    this.marks = redis ? new WriteMarks(redis, this.maxLagMs + 3 * REPLICA_POLL_INTERVAL_MS + 1000) : null;
    this.routes = this.configured && this.marks !== null;
    const router = this;
    this.available = new Gauge({
      name: 'db_replica_available',
      help: 'Whether read-only requests may use the replica (1) or go to the primary (0).',
      registers: [],
      collect() {
        this.set(router.state === 'up' ? 1 : 0);
      },
    });
    this.lag = new Gauge({
      name: 'db_replica_lag_seconds',
      help: 'How far behind the primary the replica was at the last poll (an upper bound); +Inf while unknown (down, not polled yet).',
      registers: [],
      collect() {
        this.set(router.lagMs / 1000);
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // Only a process that serves reads (it has Redis for the marks) polls; workers write to the primary.
    if (!this.routes) return;
    await this.poll();
    this.schedule();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Where this read-only request reads; asked once per request (the answer is kept in the session). */
  readTarget(session: ReadWriteSession | undefined): Promise<ReadTarget> {
    if (!this.configured) return Promise.resolve('replica');
    if (!session) return Promise.resolve(this.decide(null));
    return (session.readTarget ??= this.decideFor(session));
  }

  /**
   * A read on the replica failed: if the failure says the server is gone,
   * mark it down (the caller retries on the primary) and answer true.
   */
  replicaFailed(error: unknown): boolean {
    if (!this.configured || !isServerUnavailable(error)) return false;
    this.enter('down', `a read failed: ${(error as Error).message}`);
    this.reads.inc({ target: 'primary', reason: 'replica_down' });
    return true;
  }

  /**
   * Runs fn as a user's writes outside an authenticated request (issuing
   * tokens at sign-in): its commits are remembered like a request's, so the
   * user's first reads with the new token see them and everything before them.
   */
  async writingAs<T>(userId: string, tenantId: string, fn: () => Promise<T>): Promise<T> {
    const context = currentContext();
    if (!this.configured || context?.session || context?.scope) return fn();
    const session: ReadWriteSession = { userId, tenantId, readOnly: false, acrossTenants: false, committedAt: null };
    try {
      return await runWithContext({ ...context, session }, fn);
    } finally {
      await this.rememberWrites(session);
    }
  }

  /** Stores the WAL position of this request's committed writes, before its answer leaves. */
  async rememberWrites(session: ReadWriteSession): Promise<void> {
    if (session.committedAt === null || !this.marks) return;
    try {
      await this.marks.remember(session, session.committedAt);
    } catch (error) {
      // The write stands; without its mark this user may read older data for up to REPLICA_MAX_LAG_MS.
      this.logger.warn(`could not record a write's WAL position: ${(error as Error).message}`);
    }
  }

  private async decideFor(session: ReadWriteSession): Promise<ReadTarget> {
    if (this.state !== 'up' || !this.marks) return this.decide(null);
    let own: WalPosition | null;
    try {
      own = await this.marks.latest(session);
    } catch {
      // Without the marks nobody can tell whether the replica has this user's writes: the primary has them.
      this.reads.inc({ target: 'primary', reason: 'marks_unavailable' });
      return 'primary';
    }
    return this.decide(own);
  }

  private decide(ownWrite: WalPosition | null): ReadTarget {
    if (this.state !== 'up') {
      this.reads.inc({ target: 'primary', reason: this.state === 'lagging' ? 'replica_lagging' : 'replica_down' });
      return 'primary';
    }
    if (ownWrite !== null && (this.replayed === null || ownWrite > this.replayed)) {
      this.reads.inc({ target: 'primary', reason: 'own_write' });
      return 'primary';
    }
    this.reads.inc({ target: 'replica', reason: 'replica' });
    return 'replica';
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.poll().finally(() => this.schedule());
    }, REPLICA_POLL_INTERVAL_MS);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const at = Date.now();
    try {
      const [row] = await withTimeout(this.primary.query(`SELECT pg_current_wal_lsn()::text AS lsn`), POLL_TIMEOUT_MS);
      this.samples.push({ at, position: parseLsn(row.lsn) });
    } catch {
      // No sample this time: the lag computed below only grows, which is the safe direction.
    }
    let replayed: WalPosition;
    try {
      const [row] = await withTimeout(this.replica.query(`SELECT pg_last_wal_replay_lsn()::text AS lsn`), POLL_TIMEOUT_MS);
      if (row.lsn === null) return this.enter('down', 'the replica is not a standby in recovery');
      replayed = parseLsn(row.lsn);
    } catch (error) {
      return this.enter('down', (error as Error).message);
    }
    if (this.stopped) return;
    this.replayed = replayed;
    this.lagMs = this.measureLag(replayed);
    if (this.lagMs > this.maxLagMs) return this.enter('lagging', `${Number.isFinite(this.lagMs) ? `${this.lagMs} ms` : 'an unknown time'} behind the primary`);
    this.enter('up', 'caught up');
  }

  /** The age of the newest primary position the replica has replayed; forgets samples no decision needs. */
  private measureLag(replayed: WalPosition): number {
    const now = Date.now();
    let covered = -1;
    for (let i = 0; i < this.samples.length; i++) if (this.samples[i].position <= replayed) covered = i;
    if (covered > 0) this.samples.splice(0, covered);
    const horizon = now - this.maxLagMs - 5 * REPLICA_POLL_INTERVAL_MS;
    if (covered < 0) {
      // Not even the oldest sample is replayed: the lag is beyond that sample's age, unknown when it is young.
      while (this.samples.length > 1 && this.samples[1].at < horizon) this.samples.shift();
      return Number.POSITIVE_INFINITY;
    }
    // While the replica stands still (its stream cut), samples pile up behind the one it replayed. Those older than
    // the horizon would only refine a lag that is past the limit anyway, so they go: the list stays bounded.
    const young = this.samples.findIndex((sample, index) => index > 0 && sample.at >= horizon);
    const stale = (young < 0 ? this.samples.length : young) - 1;
    if (stale > 0) this.samples.splice(1, stale);
    return now - this.samples[0].at;
  }

  private enter(state: ReplicaState, reason: string): void {
    if (this.stopped) return;
    const previous = this.state;
    this.state = state;
    this.stateReason = reason;
    if (state === 'down') this.lagMs = Number.POSITIVE_INFINITY;
    if (previous === state) return;
    if (state === 'up') {
      if (previous !== 'unknown') this.logger.log(`replica back in use (${reason}); reads return to it`);
      return;
    }
    this.outages.inc({ reason: state });
    this.logger.warn(`replica ${state === 'down' ? 'unavailable' : 'lagging'}: ${reason}; reads go to the primary`);
  }

  /** For the health endpoint and tests: what the last poll found. */
  status(): { configured: boolean; state: ReplicaState; reason: string; lagMs: number | null } {
    return { configured: this.configured, state: this.state, reason: this.stateReason, lagMs: Number.isFinite(this.lagMs) ? this.lagMs : null };
  }
}

/**
 * Failures that mean the server cannot serve the read at all (as opposed to
 * a bad query): refused or lost connections, shutdowns, a standby that is
 * starting, and a standby's conflict with replay cancelling the read.
 */
export function isServerUnavailable(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  const message = (error as Error)?.message ?? '';
  if (typeof code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND'].includes(code)) return true;
    if (code.startsWith('08') || code.startsWith('57P')) return true;
    if (code === '40001' && /conflict with recovery/.test(message)) return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
