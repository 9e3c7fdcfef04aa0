import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { ApiProcess, startApiProcess } from '../support/api-process';
import { createProvider, memberWith } from '../support/access-fixtures';
import { ApiClient, signIn, SignedUpUser, signUp } from '../support/http-client';
import { primaryLsn, Standby, startStandby } from '../support/standby';
import { waitFor } from '../support/tasks-fixture';

const METRICS_TOKEN = 'replica-metrics-token-0123456789';
/** Every commit reaches the standby's data this long after the primary's. */
const APPLY_DELAY_MS = 3000;
/** REPLICA_MAX_LAG_MS of the process that must notice a cut stream: past the apply delay with room to spare. */
const STREAM_CUT_MAX_LAG_MS = 6000;

/**
 * A real hot standby (pg_basebackup of the test's server, replaying every
 * commit 3 s late) behind DATABASE_REPLICA_URL, and API processes of their
 * own: a user reads their own writes at once on any process, other users
 * read the standby, and a standby that dies, falls too far behind, or is
 * cut off from the primary's WAL stream sends reads to the primary without
 * an error.
 */
describe('reads on a streaming replica', () => {
  let standby: Standby;
  let first: ApiProcess;
  let second: ApiProcess;
  let alice: SignedUpUser;
  let bob: ApiClient;
  const processes: ApiProcess[] = [];

  const replicaEnv = (maxLagMs: number) => ({
    DATABASE_REPLICA_URL: standby.urlFor(process.env.DATABASE_URL!),
    DATABASE_ADMIN_REPLICA_URL: standby.urlFor(process.env.DATABASE_ADMIN_URL!),
    REPLICA_MAX_LAG_MS: String(maxLagMs),
    METRICS_TOKEN,
    LOG_LEVEL: 'info',
  });

  async function api(maxLagMs: number): Promise<ApiProcess> {
    const started = await startApiProcess(replicaEnv(maxLagMs));
    processes.push(started);
    return started;
  }

  /** One sample of a metric of the process (0 when the series is absent). */
  async function metric(target: ApiProcess, series: string): Promise<number> {
    const response = await fetch(`${target.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    const text = await response.text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  }
  const replicaReads = (target: ApiProcess) => metric(target, 'db_replica_routed_reads_total{target="replica",reason="replica"}');
  const replicaInUse = (target: ApiProcess) =>
    // Generous: under a full suite's load a standby that reconnects and replays its backlog can take tens of seconds.
    waitFor('the replica to be in use', async () => ((await metric(target, 'db_replica_available')) === 1 ? true : undefined), 90000);

  /** Does the standby have this provider yet (read there directly, as the owner role)? */
  async function onStandby(providerId: string): Promise<boolean> {
    const client = new Client({ connectionString: standby.urlFor(process.env.DATABASE_ADMIN_URL!) });
    await client.connect();
    try {
      return (await client.query(`SELECT 1 FROM providers WHERE id = $1`, [providerId])).rowCount === 1;
    } finally {
      await client.end();
    }
  }

  /**
   * Runs fn while the primary commits every 100 ms: that keeps a standby's
   * delay visible as lag; an idle primary would let the standby catch up.
   */
  async function committing(fn: () => Promise<void>): Promise<void> {
    const writer = new Client({ connectionString: process.env.DATABASE_ADMIN_URL });
    await writer.connect();
    let writing = true;
    const commits = (async () => {
      while (writing) {
        await writer.query('SELECT txid_current()');
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await fn();
    } finally {
      writing = false;
      await commits;
      await writer.end();
    }
  }

  /** Waits until the standby has every commit made so far. */
  async function standbyCaughtUp(): Promise<void> {
    await standby.waitForReplay(await primaryLsn(process.env.DATABASE_ADMIN_URL!), 60000);
  }

  before(async () => {
    standby = await startStandby({ primaryUrl: process.env.DATABASE_ADMIN_URL!, applyDelayMs: APPLY_DELAY_MS });
    [first, second] = await Promise.all([api(60000), api(60000)]);
    alice = await signUp(first.baseUrl, 'replica-owner');
    const member = await memberWith(first.baseUrl, alice, { unlimited_visibility: true }, 'replica-reader');
    const tokens = await signIn(second.baseUrl, member.email, member.password, alice.tenantId);
    bob = new ApiClient(second.baseUrl, tokens.access);
    // Bob's own sign-in is a write of his: until the standby has it, his reads rightly go to the primary.
    await standbyCaughtUp();
    await Promise.all([replicaInUse(first), replicaInUse(second)]);
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await standby?.remove();
  });

  it('a user reads their own writes at once on either process while the standby is behind; another user reads the standby', async () => {
    const bobOnSecond = bob;
    const bobOnFirst = new ApiClient(first.baseUrl, bob.token);
    const created: string[] = [];
    const missingOnStandby: string[] = [];
    for (let i = 0; i < 8; i++) {
      const [writer, reader] = i % 2 === 0 ? [first, second] : [second, first];
      const aliceOn = (target: ApiProcess) => new ApiClient(target.baseUrl, alice.access);
      const providerId = await createProvider(aliceOn(writer));
      created.push(providerId);
      if (!(await onStandby(providerId))) missingOnStandby.push(providerId);

      const detail = await aliceOn(reader).get(`/api/v1/providers/${providerId}`);
      assert.equal(detail.status, 200, `provider ${i} read back on the other process: ${JSON.stringify(detail.body)}`);
      const list = await aliceOn(reader).get(`/api/v1/providers?page[size]=100`);
      assert.ok(list.body.data.some((p: { id: string }) => p.id === providerId), `provider ${i} in the list`);

      // Bob has not written: his reads go to the standby, which does not have the provider yet.
      const replicaReadsBefore = await replicaReads(reader);
      const bobsView = await (reader === first ? bobOnFirst : bobOnSecond).get(`/api/v1/providers/${providerId}`);
      assert.ok(await replicaReads(reader) > replicaReadsBefore, 'bob read the standby');
      if (missingOnStandby.includes(providerId) && !(await onStandby(providerId))) assert.equal(bobsView.status, 404);
    }
    assert.equal(missingOnStandby.length, created.length, 'the standby was behind for every write');

    await standbyCaughtUp();
    for (const providerId of created) {
      assert.equal((await bobOnFirst.get(`/api/v1/providers/${providerId}`)).status, 200, 'once replayed, the standby serves it');
    }
  });

  it('a standby that dies sends reads to the primary from the next request on, and they return when it is back', async () => {
    const providerId = await createProvider(new ApiClient(first.baseUrl, alice.access));
    await standbyCaughtUp();
    await standby.kill();
    for (const target of [first, second]) {
      const client = new ApiClient(target.baseUrl, bob.token);
      for (let i = 0; i < 5; i++) {
        const list = await client.get('/api/v1/providers');
        assert.equal(list.status, 200, JSON.stringify(list.body));
        const detail = await client.get(`/api/v1/providers/${providerId}`);
        assert.equal(detail.status, 200, JSON.stringify(detail.body));
      }
      assert.equal(await metric(target, 'db_replica_available'), 0);
      assert.ok((await metric(target, 'db_replica_outages_total{reason="down"}')) >= 1);
      assert.match(target.output(), /replica unavailable: .*reads go to the primary/);
    }

    await standby.start();
    await standbyCaughtUp();
    for (const target of [first, second]) {
      await replicaInUse(target);
      assert.match(target.output(), /replica back in use/);
      const client = new ApiClient(target.baseUrl, bob.token);
      const before = await replicaReads(target);
      assert.equal((await client.get(`/api/v1/providers/${providerId}`)).status, 200);
      assert.equal(await replicaReads(target), before + 1, 'reads are back on the standby');
    }
  });

  it('a standby further behind than REPLICA_MAX_LAG_MS is skipped', async () => {
    await committing(async () => {
      const strict = await api(1000);
      await waitFor('the standby to be skipped', async () => ((await metric(strict, 'db_replica_outages_total{reason="lagging"}')) >= 1 ? true : undefined), 30000);
      assert.equal(await metric(strict, 'db_replica_available'), 0);
      assert.match(strict.output(), /replica lagging: .*reads go to the primary/);

      // Bob has written nothing lately, yet he sees alice's new provider at once: the primary serves him.
      const providerId = await createProvider(new ApiClient(first.baseUrl, alice.access));
      const bobOnStrict = new ApiClient(strict.baseUrl, bob.token);
      assert.equal(await onStandby(providerId), false, 'the standby is behind');
      assert.equal((await bobOnStrict.get(`/api/v1/providers/${providerId}`)).status, 200);
      assert.ok((await metric(strict, 'db_replica_routed_reads_total{target="primary",reason="replica_lagging"}')) >= 1);
    });
  });

  it('a cut replication connection leaves the standby up but stale: writes and own reads go on, a strict process skips it, and it is used again once the stream is back', async () => {
    // Past the 3 s apply delay, so only the cut makes this process skip the standby.
    const strict = await api(STREAM_CUT_MAX_LAG_MS);
    const carol = await signUp(first.baseUrl, 'replica-other-tenant');
    const aliceOn = (target: ApiProcess) => new ApiClient(target.baseUrl, alice.access);
    const carolOn = (target: ApiProcess) => new ApiClient(target.baseUrl, carol.access);
    const bobOn = (target: ApiProcess) => new ApiClient(target.baseUrl, bob.token);
    await committing(async () => {
      await replicaInUse(strict);
      const logFrom = strict.output().length;
      const outagesBefore = await metric(strict, 'db_replica_outages_total{reason="lagging"}');
      await standby.cutReplication();
      try {
        // Bob reads on every process for as long as the stream is cut: each read is answered, none with an error.
        const statuses: number[] = [];
        let reading = true;
        const reads = (async () => {
          while (reading) for (const target of [first, second, strict]) statuses.push((await bobOn(target).get('/api/v1/providers')).status);
        })();
        try {
          const written: string[] = [];
          for (const [writer, reader] of [[first, second], [second, first]]) {
            const providerId = await createProvider(aliceOn(writer));
            written.push(providerId);
            const ownWrites = await metric(reader, 'db_replica_routed_reads_total{target="primary",reason="own_write"}');
            assert.equal((await aliceOn(reader).get(`/api/v1/providers/${providerId}`)).status, 200, 'alice reads her write at once');
            assert.equal(await metric(reader, 'db_replica_routed_reads_total{target="primary",reason="own_write"}'), ownWrites + 1, 'on the primary');
          }

          await waitFor('the strict process to skip the standby', async () => ((await metric(strict, 'db_replica_outages_total{reason="lagging"}')) > outagesBefore ? true : undefined), 30000);
          assert.equal(await metric(strict, 'db_replica_available'), 0);
          assert.match(strict.output().slice(logFrom), /replica lagging: \d+ ms behind the primary; reads go to the primary/);
          // With no WAL arriving, the measured lag keeps growing with the primary's commits.
          const lag = await metric(strict, 'db_replica_lag_seconds');
          assert.ok(lag * 1000 > STREAM_CUT_MAX_LAG_MS, `lag ${lag} s`);
          await new Promise((r) => setTimeout(r, 500));
          assert.ok((await metric(strict, 'db_replica_lag_seconds')) > lag, 'the lag grows while the stream is cut');

          written.push(await createProvider(aliceOn(first)));
          const strictOnStandby = await replicaReads(strict);
          for (const providerId of written) {
            assert.equal(await onStandby(providerId), false, 'the standby replays nothing while cut');
            const lagging = await metric(strict, 'db_replica_routed_reads_total{target="primary",reason="replica_lagging"}');
            assert.equal((await bobOn(strict).get(`/api/v1/providers/${providerId}`)).status, 200, 'the strict process reads the primary');
            assert.ok((await metric(strict, 'db_replica_routed_reads_total{target="primary",reason="replica_lagging"}')) > lagging);
            for (const target of [first, second, strict]) {
              assert.equal((await carolOn(target).get(`/api/v1/providers/${providerId}`)).status, 404, 'another tenant never sees it');
            }
          }
          for (const target of [first, second, strict]) {
            const list = await carolOn(target).get('/api/v1/providers?page[size]=100');
            assert.equal(list.status, 200, JSON.stringify(list.body));
            assert.deepEqual(list.body.data, [], "another tenant's list stays empty");
          }
          assert.equal(await replicaReads(strict), strictOnStandby, 'the strict process left the standby alone');
        } finally {
          reading = false;
          await reads;
        }
        assert.ok(statuses.length >= 3);
        assert.deepEqual(statuses.filter((status) => status !== 200), []);
      } finally {
        await standby.restoreReplication();
      }

      await standbyCaughtUp();
      await replicaInUse(strict);
      assert.match(strict.output().slice(logFrom), /replica back in use/);
      const before = await replicaReads(strict);
      assert.equal((await bobOn(strict).get('/api/v1/providers')).status, 200);
      assert.equal(await replicaReads(strict), before + 1, 'reads are back on the standby');
    });
  });
});
