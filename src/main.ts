import 'reflect-metadata';
import { loadConfig, ownerRoleProblem } from './config/app-config';
import { AppModule } from './app.module';
import { createHttpApp } from './http-app';

/** The HTTP API process. Workers run in their own process (worker.ts) unless WORKERS_IN_PROCESS=true. */
async function main(): Promise<void> {
  const config = loadConfig();
  const missing = ownerRoleProblem(config, 'api');
  if (missing) throw new Error(missing);
  const app = await createHttpApp(config, AppModule);
  await app.listen({ host: config.http.host, port: config.http.port });
  const base = `http://${config.http.host}:${config.http.port}`;
  process.stdout.write(`API: ${base}/api/v1\nSwagger UI: ${base}/api/v1/docs\n`);
}

main().catch((error) => {
  process.stderr.write(`failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
