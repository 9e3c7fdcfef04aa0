import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig } from '../config/app-config';
import { ApiError } from '../common/errors/api-error';
import { sendError } from '../common/errors/json-api-exception.filter';
import { presentedSecret, secretMatches } from '../common/operator-token';
import { Metrics } from './metrics';

/** The label of requests that matched no route (a raw URL would give every probe its own series). */
const UNMATCHED_ROUTE = 'unmatched';

/**
 * With metrics on: every response's duration, by route template and status;
 * and GET /metrics on the API's own port when only METRICS_TOKEN is set
 * (with METRICS_PORT the MetricsServer serves it apart). Routes of Fastify's
 * own, outside the API prefix and its JWT guard.
 */
export function mountMetrics(app: NestFastifyApplication, config: AppConfig): void {
  const metrics = app.get(Metrics);
  if (!metrics.enabled) return;
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.observeHttp(request.method, request.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  if (config.metrics.port !== 0) return;
  fastify.get('/metrics', async (request, reply) => {
    if (!secretMatches(presentedSecret(request.headers.authorization), config.metrics.token)) {
      return sendError(new ApiError(401, 'not_authenticated', 'The metrics token is missing or wrong.'), request, reply);
    }
    return reply.type(metrics.registry.contentType).send(await metrics.text());
  });
}
