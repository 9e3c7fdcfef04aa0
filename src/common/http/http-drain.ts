import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiError } from '../errors/api-error';

/**
 * Shutting the API down without dropping requests or waiting on idle clients.
 * While draining, a request that still arrives on an open connection gets a
 * JSON:API 503, every response carries `Connection: close` (so its socket
 * ends with it), and idle keep-alive sockets are closed at once. In-flight
 * requests finish within the grace period; what remains then is cut.
 */
const draining = new WeakSet<FastifyInstance>();

/** The hooks that answer 503 and close connections once draining starts; registered before any other hook. */
export function registerDrainHooks(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', async (_request, reply) => {
    if (!draining.has(fastify)) return;
    reply.header('connection', 'close');
    throw new ApiError(503, 'shutting_down', 'This server is shutting down; retry the request.');
  });
  fastify.addHook('onSend', async (_request, reply) => {
    if (draining.has(fastify)) reply.header('connection', 'close');
  });
}

/** Stops accepting, lets in-flight requests finish (at most graceMs), then runs the app's own shutdown (workers, pools, Redis). */
export async function drainAndClose(app: NestFastifyApplication, graceMs: number): Promise<void> {
  const server = app.getHttpServer() as Server;
  draining.add(app.getHttpAdapter().getInstance());
  if (server.listening) {
    await new Promise<void>((resolve) => {
      const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
      server.close(() => {
        clearTimeout(deadline);
        resolve();
      });
      server.closeIdleConnections();
    });
  }
  await app.close();
}

/**
 * SIGTERM or SIGINT drains and closes the app, runs `afterClose` (the local
 * start stops the PostgreSQL it started), and exits. A second signal exits at once.
 */
export function closeOnSignals(app: NestFastifyApplication, graceMs: number, afterClose: () => Promise<void> = async () => undefined): void {
  let closing = false;
  const onSignal = () => {
    if (closing) process.exit(1);
    closing = true;
    drainAndClose(app, graceMs)
      .then(afterClose)
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`shutdown failed: ${(error as Error).stack ?? error}\n`);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
