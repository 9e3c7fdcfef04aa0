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
  stop(): Promise<void>;
}

/** Node timeout of the test cluster: a dead master's replica is promoted about this long after it stops answering. */
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
  const masterOf = async (key: string) => {
    for (const port of ports) {
      const found = await masterOfSlot(port, key).catch(() => undefined);
      if (found !== undefined) return found;
    }
    throw new Error('no node of the cluster answers');
  };
  return {
    nodes,
    seeds: ports.map((port) => `127.0.0.1:${port}`).join(','),
    masterOf,
    stop,
  };
}

/** Ports whose cluster bus port (port + 10000) is free as well. */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20000 + Math.floor(Math.random() * 20000);
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
