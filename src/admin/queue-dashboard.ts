import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { AppConfig } from '../config/app-config';
import { ApiError } from '../common/errors/api-error';
import { sendError } from '../common/errors/json-api-exception.filter';
import { presentedSecret, secretMatches } from '../common/operator-token';
import { QueueRegistry } from '../tasks/queue/queue-registry';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * bull-board at /admin/queues: every queue and job, across tenants, so it is
 * for operators only. Off unless ADMIN_DASHBOARD_TOKEN is set; every request
 * (page, asset, API call) must carry the token, as `Authorization: Bearer`
 * or as the password of HTTP Basic, which a browser asks for. A tenant
 * user's JWT never opens it. Read-only: the task rows are the record of
 * background work, and a job removed or retried here would bypass them.
 */
export async function mountQueueDashboard(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const token = config.adminDashboardToken;
  if (!token) return;
  // Loaded only when turned on: an API without the dashboard does not pay for its start-up.
  const [{ createBullBoard }, { BullMQAdapter }, { FastifyAdapter }] = await Promise.all([
    import('@bull-board/api'),
    import('@bull-board/api/bullMQAdapter'),
    import('@bull-board/fastify'),
  ]);
  const board = new FastifyAdapter();
  board.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: app.get(QueueRegistry).all().map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter: board as never,
  });
  await app.register((async (scope: FastifyInstance) => {
    scope.addHook('onRequest', async (request, reply) => {
      if (secretMatches(presentedSecret(request.headers.authorization), token)) return;
      reply.header('www-authenticate', 'Basic realm="queues", charset="UTF-8"');
      sendError(new ApiError(401, 'not_authenticated', 'The queue dashboard needs ADMIN_DASHBOARD_TOKEN.'), request, reply);
      return reply;
    });
    await scope.register(board.registerPlugin() as never, { prefix: QUEUE_DASHBOARD_PATH });
  }) as never);
}
