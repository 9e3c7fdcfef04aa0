import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfig, ownerRoleProblem } from './config/app-config';
import { withConfig } from './config/config.module';
import { createRootLogger, PinoNestLogger } from './logging/logger';
import { WorkerModule } from './worker.module';

/**
 * `npm run start:worker`: the queue processors as a process of their own (no
 * HTTP). Run as many as you like. SIGTERM stops taking jobs, lets running ones
 * finish (WORKER_SHUTDOWN_GRACE_MS), hands the rest back, then exits.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const missing = ownerRoleProblem(config, 'worker');
  if (missing) throw new Error(missing);
  const app = await NestFactory.createApplicationContext(withConfig(config, WorkerModule.forWorkerProcess()), {
    logger: new PinoNestLogger(createRootLogger(config.logLevel)),
    abortOnError: false,
  });
  app.enableShutdownHooks();
  process.stdout.write(`worker: processing jobs (pid ${process.pid})\n`);
}

main().catch((error) => {
  process.stderr.write(`worker failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
