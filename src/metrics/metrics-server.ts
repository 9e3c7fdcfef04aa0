import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { presentedSecret, secretMatches } from '../common/operator-token';
import { JSONAPI_MEDIA_TYPE } from '../common/jsonapi/media-type';
import { Metrics } from './metrics';

/**
 * GET /metrics on METRICS_PORT, apart from the API (and the only way a
 * worker process, which has no HTTP, serves its metrics). With METRICS_TOKEN
 * set it asks for the token here too.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('MetricsServer');
  private server?: Server;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.metrics.port === 0) return;
    const server = createServer((request, response) => void this.answer(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.metrics.port, this.config.http.host, () => resolve());
    });
    this.server = server;
    const { address, port } = server.address() as AddressInfo;
    this.logger.log(`metrics on http://${address}:${port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || request.method !== 'GET') return reject(response, 404, 'not_found', 'Only GET /metrics is served here.');
    const { token } = this.config.metrics;
    if (token && !secretMatches(presentedSecret(request.headers.authorization), token)) {
      return reject(response, 401, 'not_authenticated', 'The metrics token is missing or wrong.');
    }
    try {
      const body = await this.metrics.text();
      response.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(body);
    } catch (error) {
      this.logger.warn(`metrics failed: ${(error as Error).message}`);
      reject(response, 503, 'metrics_unavailable', 'The metrics could not be collected.');
    }
  }
}

function reject(response: ServerResponse, status: number, code: string, detail: string): void {
  response.writeHead(status, { 'content-type': JSONAPI_MEDIA_TYPE }).end(JSON.stringify({ errors: [{ status: String(status), code, detail }] }));
}
