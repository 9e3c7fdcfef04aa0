import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './api-process';

/** HAProxy (Debian's package) in front of API processes on 127.0.0.1, as a deployment puts a load balancer. */
export interface LoadBalancer {
  baseUrl: string;
  stop(): Promise<void>;
}

const CANDIDATES = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy'];

/**
 * Round robin over the servers, each checked on /health/live every 500 ms.
 * A request that cannot reach a server (refused connection) is sent to
 * another one; a request already sent is never repeated, since it may have
 * been a write. No server connection is reused between requests.
 */
export async function startLoadBalancer(serverUrls: string[]): Promise<LoadBalancer> {
  const binary = CANDIDATES.find((path) => existsSync(path));
  if (!binary) throw new Error(`HAProxy is not installed (apt-get install haproxy); looked in ${CANDIDATES.join(', ')}`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cspm-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  const servers = serverUrls.map((url, i) => {
    const { hostname, port: serverPort } = new URL(url);
    if (hostname !== '127.0.0.1') throw new Error('The load balancer fronts servers on 127.0.0.1 only');
    return `  server api${i + 1} 127.0.0.1:${serverPort} check inter 500 fall 2 rise 1`;
  });
  writeFileSync(
    config,
    [
      'global',
      '  maxconn 2000',
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 60s',
      '  timeout server 60s',
      // A busy machine may take a while to answer a check; a slow answer is not a dead server (a refused connection is).
      '  timeout check 5s',
      '  retries 3',
      '  option redispatch 1',
      '  retry-on conn-failure',
      // A fresh server connection per request: one reused from a pool may be to a server that just died,
      // and a request already written to it cannot be retried safely; a refused connect can.
      '  http-reuse never',
      'frontend api',
      `  bind 127.0.0.1:${port}`,
      '  default_backend apis',
      'backend apis',
      '  balance roundrobin',
      '  option httpchk GET /health/live',
      ...servers,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(binary, ['-f', config, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`HAProxy exited: ${output}`);
    const ok = await fetch(`${baseUrl}/health/live`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`HAProxy did not answer in time: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    baseUrl,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
