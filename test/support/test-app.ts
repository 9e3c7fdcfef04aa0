import 'reflect-metadata';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import type { DestinationStream } from 'pino';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { createHttpApp } from '../../src/http-app';
import { AppModule } from '../../src/app.module';

export interface TestApp {
  app: NestFastifyApplication;
  baseUrl: string;
  config: AppConfig;
  close(): Promise<void>;
}

/** The real API on a real port, against the run's database and Redis prefix. */
export async function startTestApp(
  overrides: Record<string, string> = {},
  rootModule: unknown = AppModule,
  logDestination?: DestinationStream,
): Promise<TestApp> {
  const config = loadConfig({ ...process.env, PORT: '0', TOKEN_THROTTLE_POINTS: '100000', TOKEN_THROTTLE_ACCOUNT_POINTS: '100000', SIGNUP_THROTTLE_POINTS: '100000', ...overrides });
  const app = await createHttpApp(config, rootModule, logDestination);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.getHttpServer().address() as { port: number };
  return { app, baseUrl: `http://127.0.0.1:${address.port}`, config, close: () => app.close() };
}

export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomBytes(6).toString('hex')}@example.com`;
}

export const STRONG_PASSWORD = 'Correct-Horse-9-Battery';
