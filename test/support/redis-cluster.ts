import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import Redis from 'ioredis';

const run = promisify(execFile);

export interface ClusterNode {
  port: number;
  process: ChildProcess;
}

/** A local Redis Cluster on 127.0.0.1: three masters, each with a replica. */
export interface LocalRedisCluster {
  nodes: ClusterNode[];
  /** `host:port,…` for REDIS_CLUSTER_NODES. */
  seeds: string;
  /** The port of the master serving the slot of `key` now. */
  masterOf(key: string): Promise<number>;
  /** The port of the replica of the master on `port`, once it has synced with it (a replica that never synced refuses to take over). */
  syncedReplicaOf(port: number): Promise<number>;
  /** SIGKILLs the node on `port`. */
  kill(port: number): void;
  /** Resolves once `replica` is a master and every live node reports cluster_state:ok. */
  waitForPromotion(replica: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Node timeout of the test cluster: a dead master's replica is promoted a few seconds after it stops answering. */
const NODE_TIMEOUT_MS = 1500;

export async function startRedisCluster(): Promise<LocalRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'cspm-redis-cluster-'));
  const ports = await clusterPorts(6);
  const nodes: ClusterNode[] = ports.map((port) => ({
    port,
    process: spawn(
      'redis-server',
      [
        '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', String(NODE_TIMEOUT_MS),
        // A replica always stands for election, however long since it last heard its master: on a
        // loaded machine a starved replica could otherwise judge its data too old and never take over.
        '--cluster-replica-validity-factor', '0',
        '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', join(dir, `${port}.log`),
      ],
      { stdio: 'ignore' },
    ),
  }));
  const stop = async () => {
    for (const node of nodes) if (node.process.exitCode === null && node.process.signalCode === null) node.process.kill('SIGKILL');
    await sleep(100);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const { port } of nodes) await waitForPing(port);
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30000 });
    await waitForState(ports, 30000);
  } catch (error) {
    await stop();
    throw error;
  }
  const killed = new Set<number>();
  const masterOf = async (key: string) => {
    for (const port of ports.filter((p) => !killed.has(p))) {
      const found = await masterOfSlot(port, key).catch(() => undefined);
      if (found !== undefined) return found;
    }
    throw new Error('no node of the cluster answers');
  };
  return {
    nodes,
    seeds: ports.map((port) => `127.0.0.1:${port}`).join(','),
    masterOf,
    syncedReplicaOf: async (port) => {
      const deadline = Date.now() + 15000;
      for (;;) {
        const replica = await syncedReplica(port).catch(() => undefined);
        if (replica !== undefined) return replica;
        if (Date.now() > deadline) throw new Error(`no replica of ${port} in sync`);
        await sleep(100);
      }
    },
    kill: (port) => {
      killed.add(port);
      nodes.find((node) => node.port === port)!.process.kill('SIGKILL');
    },
    waitForPromotion: async (replica, timeoutMs = 30000) => {
      const live = ports.filter((port) => !killed.has(port));
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const role = (await cli(replica, 'ROLE').catch(() => '')).split('\n')[0];
        if (role === 'master' && (await Promise.all(live.map((port) => clusterOk(port).catch(() => false)))).every(Boolean)) return;
        if (Date.now() > deadline) throw new Error(`the replica on ${replica} was not promoted within ${timeoutMs} ms (role ${role})`);
        await sleep(100);
      }
    },
    stop,
  };
}

/** One cluster-enabled node that serves no slot yet: it answers CLUSTER INFO with cluster_state:fail. */
export interface SlotlessClusterNode {
  port: number;
  /** Gives the node every slot: the cluster it makes alone turns ok. */
  serveAllSlots(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSlotlessClusterNode(): Promise<SlotlessClusterNode> {
  const dir = mkdtempSync(join(tmpdir(), 'cspm-redis-node-'));
  const [port] = await clusterPorts(1);
  const node = spawn(
    'redis-server',
    [
      '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'),
      // Alone, the node knows no address of its own to give in CLUSTER SLOTS; and a short node
      // timeout shortens the wait before a node that served nothing calls its cluster ok.
      '--cluster-announce-ip', '127.0.0.1', '--cluster-node-timeout', '500',
      '--save', '', '--appendonly', 'no', '--dir', dir,
    ],
    { stdio: 'ignore' },
  );
  const stop = async () => {
    if (node.exitCode === null && node.signalCode === null) node.kill('SIGKILL');
    await sleep(100);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPing(port);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    serveAllSlots: async () => {
      await cli(port, 'CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
      await waitForState([port], 10000);
    },
    stop,
  };
}

/** The replica of the master on `port` whose replication link is up, if there is one yet. */
async function syncedReplica(port: number): Promise<number | undefined> {
  const info = await cli(port, 'INFO', 'replication');
  // `slave0:ip=127.0.0.1,port=…,state=online,…`: online once the initial sync is done.
  const online = /^slave\d+:ip=[^,]+,port=(\d+),state=online/m.exec(info);
  if (!online) return undefined;
  const replica = Number(online[1]);
  return /^master_link_status:up/m.test(await cli(replica, 'INFO', 'replication')) ? replica : undefined;
}

/**
 * Ports for the nodes, each with its cluster bus port (+10000) free too, all
 * below Linux's ephemeral range (32768 up): a client reconnecting to a
 * killed node's port inside that range can be given that very port as its
 * own source and connect to itself, and then waits forever for answers.
 */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 10000 + Math.floor(Math.random() * 12000);
    if (ports.includes(port)) continue;
    if ((await isFree(port)) && (await isFree(port + 10000))) ports.push(port);
  }
  return ports;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5000 });
  return stdout;
}

async function waitForPing(port: number): Promise<void> {
  const deadline = Date.now() + 10000;
  while ((await cli(port, 'PING').catch(() => '')).trim() !== 'PONG') {
    if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
    await sleep(50);
  }
}

async function clusterOk(port: number): Promise<boolean> {
  return (await cli(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok');
}

async function waitForState(ports: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(ports.map((port) => clusterOk(port).catch(() => false)));
    if (states.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error('the cluster did not reach cluster_state:ok');
    await sleep(200);
  }
}

/** The port of the master serving `key`'s slot, as the node on `port` sees it. */
async function masterOfSlot(port: number, key: string): Promise<number> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  // A dead node's refusal is the answer looked for, not an error to print.
  client.on('error', () => undefined);
  try {
    await client.connect();
    const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
    const slots = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
    const range = slots.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    return range[2][1];
  } finally {
    client.disconnect();
  }
}
