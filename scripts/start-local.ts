import 'reflect-metadata';
import { loadConfig } from '../src/config/app-config';
import { closeOnSignals } from '../src/common/http/http-drain';
import { setupDatabase } from '../src/database/database-setup';
import { startLocalPostgres } from '../src/dev/local-postgres';
import { resolveLocalRedis } from '../src/dev/local-redis';
import { createHttpApp } from '../src/http-app';
import { LocalAppModule } from '../src/local-app.module';
import { serviceAddresses } from '../src/service-addresses';

const log = (message: string) => process.stdout.write(`start: ${message}\n`);

/**
 * `npm start`: the whole service on one machine with nothing running —
 * PostgreSQL from npm under .data/, Redis found or started, migrations, then
 * the API with its workers in the same process. Logs at `warn` unless
 * LOG_LEVEL says otherwise, so the addresses are the last lines printed.
 */
async function main(): Promise<void> {
  const stops: Array<() => Promise<void>> = [];
  if (!process.env.DATABASE_URL) {
    const postgres = await startLocalPostgres(process.env.LOCAL_POSTGRES_DIR ?? '.data/postgres', Number(process.env.LOCAL_POSTGRES_PORT ?? 54329), log);
    stops.push(postgres.stop);
    process.env.DATABASE_URL = postgres.appUrl;
    process.env.DATABASE_ADMIN_URL = postgres.adminUrl;
  }
  // A Redis Cluster is the operator's own; otherwise REDIS_URL, or a Redis started here.
  if (!process.env.REDIS_CLUSTER_NODES) {
    const redis = await resolveLocalRedis(Number(process.env.LOCAL_REDIS_PORT ?? 6390), log);
    stops.push(redis.stop);
    process.env.REDIS_URL = redis.url;
  }
  process.env.WORKERS_IN_PROCESS ??= 'true';
  process.env.LOG_LEVEL ??= 'warn';

  const config = loadConfig();
  await setupDatabase(config.database.appUrl, config.database.adminUrl, log);
  const app = await createHttpApp(config, LocalAppModule);
  closeOnSignals(app, config.http.shutdownGraceMs, async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  });
  await app.listen({ host: config.http.host, port: config.http.port });
  process.stdout.write(serviceAddresses(config));
}

main().catch((error) => {
  process.stderr.write(`start failed: ${(error as Error).message}\n`);
  process.exit(1);
});
