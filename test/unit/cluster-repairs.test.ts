import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from 'ioredis';
import { repairedCluster, SUBSCRIBER_RESELECT_DELAY_MS } from '../../src/redis/cluster-repairs';
import { freePort } from '../support/api-process';
import { startRedisCluster, startSlotlessClusterNode } from '../support/redis-cluster';

/**
 * A cluster client whose every node is gone sits in 'reconnecting' with an
 * empty pool, as one does after a failover that failed its slot refresh.
 */
async function reconnectingCluster(): Promise<Cluster> {
  const port = await freePort();
  const cluster = repairedCluster(new Cluster([{ host: '127.0.0.1', port }], { clusterRetryStrategy: () => 60000 }));
  cluster.on('error', () => undefined);
  while (cluster.status !== 'reconnecting') await sleep(20);
  return cluster;
}

async function ends(cluster: Cluster, close: () => unknown): Promise<void> {
  const ended = once(cluster, 'end');
  const queued = cluster.get('key');
  close();
  await Promise.race([ended, sleep(3000).then(() => assert.fail(`no 'end' (status ${cluster.status})`))]);
  assert.equal(cluster.status, 'end');
  await assert.rejects(queued, 'a command queued meanwhile settles');
}

describe('a cluster client closed while reconnecting', () => {
  it('ends on disconnect', async () => {
    const cluster = await reconnectingCluster();
    await ends(cluster, () => cluster.disconnect());
  });

  it('ends on quit', async () => {
    const cluster = await reconnectingCluster();
    await ends(cluster, () => cluster.quit());
  });

  it('so do its duplicates (BullMQ blocking connections)', async () => {
    const original = await reconnectingCluster();
    const duplicate = original.duplicate();
    duplicate.on('error', () => undefined);
    while (duplicate.status !== 'reconnecting') await sleep(20);
    await ends(duplicate, () => duplicate.disconnect());
    original.disconnect();
  });

  it('a pool emptied with no connect() listening for it still ends the client on close', async () => {
    // ioredis sets 'close' when its pool drains; a connect() given up early never added the
    // listener that answers it (what a worker's blocking client met after a failover).
    const port = await freePort();
    const cluster = repairedCluster(new Cluster([{ host: '127.0.0.1', port }], { lazyConnect: true, clusterRetryStrategy: () => 60000 }));
    cluster.on('error', () => undefined);
    const pool = (cluster as unknown as { connectionPool: NodeJS.EventEmitter }).connectionPool;
    pool.emit('drain');
    await sleep(50);
    assert.equal(cluster.status, 'reconnecting', 'a close nobody answered is answered as ioredis would: a reconnect is planned');
    await ends(cluster, () => cluster.disconnect());
  });

  it('closed on purpose meanwhile, it ends', async () => {
    const port = await freePort();
    const cluster = repairedCluster(new Cluster([{ host: '127.0.0.1', port }], { lazyConnect: true, clusterRetryStrategy: () => 60000 }));
    cluster.on('error', () => undefined);
    const ended = once(cluster, 'end');
    const internals = cluster as unknown as { manuallyClosing: boolean; connectionPool: NodeJS.EventEmitter };
    internals.manuallyClosing = true;
    internals.connectionPool.emit('drain');
    await Promise.race([ended, sleep(3000).then(() => assert.fail(`no 'end' (status ${cluster.status})`))]);
    assert.equal(cluster.status, 'end');
  });
});

describe('connect() on a cluster client whose ready check fails', () => {
  // A node serving no slot says cluster_state:fail, as a cluster does during a failover:
  // ioredis refreshes its slots, fails the ready check and reconnects by itself.
  const failingReadyCheck = async () => {
    const node = await startSlotlessClusterNode();
    const cluster = repairedCluster(new Cluster([{ host: '127.0.0.1', port: node.port }], { lazyConnect: true, clusterRetryStrategy: () => 100 }));
    cluster.on('error', () => undefined);
    let outcome = 'pending';
    const connecting = cluster.connect().then(() => (outcome = 'resolved'), (error: Error) => (outcome = `rejected: ${error.message}`));
    const reconnects = once(cluster, 'reconnecting');
    await Promise.race([reconnects, sleep(5000).then(() => assert.fail(`no reconnect after the failed ready check (status ${cluster.status})`))]);
    assert.equal(outcome, 'pending');
    return { node, cluster, connecting, outcome: () => outcome };
  };
  const within = (promise: Promise<unknown>, what: string) => Promise.race([promise, sleep(5000).then(() => assert.fail(what))]);

  it('resolves once a later reconnect finds the cluster ready', async () => {
    const { node, cluster, connecting, outcome } = await failingReadyCheck();
    try {
      await node.serveAllSlots();
      await within(connecting, `connect() never settled (status ${cluster.status})`);
      assert.equal(outcome(), 'resolved');
      assert.equal(cluster.status, 'ready');
      assert.equal(await cluster.set('{k}key', 'v'), 'OK');
    } finally {
      cluster.disconnect();
      await node.stop();
    }
  });

  it('rejects when the client is closed instead', async () => {
    const { node, cluster, connecting, outcome } = await failingReadyCheck();
    try {
      cluster.disconnect();
      await within(connecting, `connect() never settled (status ${cluster.status})`);
      assert.match(outcome(), /^rejected: /);
      assert.equal(cluster.status, 'end');
    } finally {
      await node.stop();
    }
  });
});

describe('a subscribed cluster client once every node is down', () => {
  it('picks a node for its pub/sub connection a few times a second, not thousands, leaving nothing behind per pick', async () => {
    const local = await startRedisCluster();
    const cluster = repairedCluster(new Cluster(local.nodes.map(({ port }) => ({ host: '127.0.0.1', port })), { clusterRetryStrategy: () => 500 }));
    cluster.on('error', () => undefined);
    try {
      await cluster.subscribe('channel');
      const subscriber = (cluster as unknown as { subscriber: { selectSubscriber(): void; lastActiveSubscriber?: { stream?: NodeJS.EventEmitter } } })
        .subscriber;
      let picks = 0;
      const select = subscriber.selectSubscriber.bind(subscriber);
      subscriber.selectSubscriber = () => {
        picks++;
        select();
      };
      for (const { port } of local.nodes) local.kill(port);
      const watchedMs = 2000;
      await sleep(watchedMs);
      // Paced picks, plus one for each reconnect of the client (every 500 ms) refilling its pool.
      assert.ok(picks >= 1, 'it does look for a node again');
      assert.ok(picks <= 3 * (watchedMs / SUBSCRIBER_RESELECT_DELAY_MS), `${picks} picks in ${watchedMs} ms`);
      // Each pick used to disconnect the long-ended connection again, leaving a listener on its closed socket.
      const closeListeners = subscriber.lastActiveSubscriber?.stream?.listenerCount('close') ?? 0;
      assert.ok(closeListeners <= 3, `${closeListeners} close listeners on the ended connection's socket after ${picks} picks`);
    } finally {
      cluster.disconnect();
      await local.stop();
    }
  });
});
