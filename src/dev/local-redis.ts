import { spawn, ChildProcess, execFileSync } from 'node:child_process';
import Redis from 'ioredis';

export interface LocalRedis {
  url: string;
  stop(): Promise<void>;
}

/**
 * Redis for a local start: REDIS_URL if set, else 127.0.0.1:6379 if it
 * answers, else a redis-server from PATH on `fallbackPort`, else a message
 * saying what to install.
 */
export async function resolveLocalRedis(
  fallbackPort: number,
  log: (message: string) => void,
  standard = 'redis://127.0.0.1:6379',
  configuredUrl = process.env.REDIS_URL,
): Promise<LocalRedis> {
  if (configuredUrl) return { url: configuredUrl, stop: async () => undefined };
  if (await answers(standard)) {
    log(`Redis on ${new URL(standard).host}`);
    return { url: standard, stop: async () => undefined };
  }
  if (!onPath('redis-server')) {
    throw new Error(
      'Redis is needed and none answers on 127.0.0.1:6379. Install it (Debian/Ubuntu: apt-get install redis-server; ' +
        'macOS: brew install redis) so redis-server is on PATH, or set REDIS_URL to a running server.',
    );
  }
  const child = spawn('redis-server', ['--port', String(fallbackPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${fallbackPort}`;
  for (let attempt = 0; attempt < 50 && !(await answers(url)); attempt++) await new Promise((r) => setTimeout(r, 100));
  if (!(await answers(url))) throw new Error(`redis-server did not start on port ${fallbackPort}`);
  log(`Redis (redis-server from PATH) on 127.0.0.1:${fallbackPort}`);
  return { url, stop: async () => stopChild(child) };
}

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolveStop) => {
    if (child.exitCode !== null) return resolveStop();
    child.once('exit', () => resolveStop());
    child.kill('SIGTERM');
  });
}
