import 'reflect-metadata';
import { loadConfig, ownerRoleProblem } from './config/app-config';
import { closeOnSignals } from './common/http/http-drain';
import { createHttpApp } from './http-app';
import { AppModule } from './app.module';
import { LocalAppModule } from './local-app.module';
import { serviceAddresses } from './service-addresses';

/**
 * `npm run start:prod`: the HTTP API, with the queue processors in the same
 * process when WORKERS_IN_PROCESS=true (otherwise they run in `start:worker`
 * processes). SIGTERM drains HTTP (SHUTDOWN_GRACE_MS), hands running jobs
 * back (WORKER_SHUTDOWN_GRACE_MS), then exits.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const missing = ownerRoleProblem(config, 'api');
  if (missing) throw new Error(missing);
  // Without processors the worker module is not even built: an API-only process starts faster.
  const app = await createHttpApp(config, config.workers.inProcess ? LocalAppModule : AppModule);
  closeOnSignals(app, config.http.shutdownGraceMs);
  await app.listen({ host: config.http.host, port: config.http.port });
  process.stdout.write(serviceAddresses(config));
}

main().catch((error) => {
  process.stderr.write(`failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
