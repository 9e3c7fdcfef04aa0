import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { API_NODE_FLAGS } from '../../src/config/api-node-flags';

export interface ApiProcess {
  baseUrl: string;
  child: ChildProcess;
  /** Everything it printed on stdout so far. */
  output(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * The compiled API (dist/src/main.js, what `npm run start:prod` runs, or
 * another entry point such as the local start's) as its own process, so a
 * benchmark's load generator does not share the server's event loop.
 * Resolves once it has printed its addresses.
 */
const GENEROUS_THROTTLES = { TOKEN_THROTTLE_POINTS: '100000', TOKEN_THROTTLE_ACCOUNT_POINTS: '100000', SIGNUP_THROTTLE_POINTS: '100000' };

export async function startApiProcess(env: Record<string, string>, script = 'src/main.js', unset: string[] = []): Promise<ApiProcess> {
  const port = await freePort();
  // Started as production starts it (API_NODE_FLAGS); API_NODE_ARGS adds flags such as --cpu-prof when
  // profiling a benchmark; API_START_TIMEOUT_MS gives a slow (busy) machine longer than 30 s to start it.
  const nodeArgs = [...API_NODE_FLAGS, ...(process.env.API_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !unset.includes(name)));
  const child = spawn(process.execPath, [...nodeArgs, join(__dirname, '..', '..', ...script.split('/'))], {
    // Budgets as generous as an in-process test app's: every test of a run shares 127.0.0.1's budget in Redis.
    // A test of the throttles names its own.
    env: { ...inherited, ...GENEROUS_THROTTLES, ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolveStart, reject) => {
    // Generous: on a machine shared with other test runs, a start has taken over 30 s.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`API did not start in time: ${output}`));
    }, Number(process.env.API_START_TIMEOUT_MS ?? 90000));
    const check = () => {
      if (!output.includes('Health:')) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      resolveStart();
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`API exited with ${code}: ${output}`)));
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolveStop) => {
        // A process that ended by a signal (a test's SIGKILL) has no exit code, and no 'exit' event to come.
        if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
        child.once('exit', () => resolveStop());
        child.kill('SIGTERM');
      }),
  };
}
