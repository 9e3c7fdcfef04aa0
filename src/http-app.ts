import { RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DestinationStream } from 'pino';
import { AppConfig } from './config/app-config';
import { withConfig } from './config/config.module';
import { ApiError } from './common/errors/api-error';
import { API_KEY_SECURITY } from './common/http/endpoint.decorator';
import { JSONAPI_MEDIA_TYPE } from './common/jsonapi/media-type';
import { createRootLogger, PinoNestLogger } from './logging/logger';
import { SAML_ACS_PATH, withoutSamlTrailingSlash } from './saml/saml-paths';

export const API_PREFIX = 'api/v1';
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const FORM_BODY_TYPE = 'application/x-www-form-urlencoded';
const ACCEPTED_BODY_TYPES = new Set([JSONAPI_MEDIA_TYPE, 'application/json', 'multipart/form-data']);

function hasBody(headers: IncomingMessage['headers']): boolean {
  const length = headers['content-length'];
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined;
}

/** Builds (but does not start listening) the HTTP API on Fastify, with every platform concern wired in. */
export async function createHttpApp(
  config: AppConfig,
  rootModule: unknown,
  logDestination?: DestinationStream,
): Promise<NestFastifyApplication> {
  const logger = createRootLogger(config.logLevel, logDestination);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: config.http.trustProxy,
    requestIdHeader: false,
    rewriteUrl: (request: IncomingMessage) => withoutSamlTrailingSlash(request.url ?? '/'),
    genReqId: (request: IncomingMessage) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
  });
  const fastify = adapter.getInstance();
  // JSON:API's media type is parsed as JSON, within the same body limit.
  fastify.addContentTypeParser(JSONAPI_MEDIA_TYPE, { parseAs: 'string' }, fastify.getDefaultJsonParser('error', 'error'));
  // Bodies are JSON:API (or plain JSON); multipart only for file uploads. Fastify would otherwise
  // accept text/plain and hand the handler a string.
  fastify.removeContentTypeParser(['text/plain']);
  fastify.addHook('onRequest', async (request) => {
    if (!hasBody(request.headers)) return;
    const type = String(request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type === FORM_BODY_TYPE && SAML_ACS_PATH.test(request.url)) return;
    if (!ACCEPTED_BODY_TYPES.has(type)) {
      throw new ApiError(415, 'unsupported_media_type', `Unsupported content type '${type || 'none'}'; send ${JSONAPI_MEDIA_TYPE}.`);
    }
  });
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // JSON:API forbids media type parameters such as the charset Fastify appends.
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith(JSONAPI_MEDIA_TYPE)) reply.header('content-type', JSONAPI_MEDIA_TYPE);
  });

  const app = await NestFactory.create<NestFastifyApplication>(withConfig(config, rootModule), adapter, {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
  });
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health/live', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
    ],
  });
  await app.register(helmet as never, {
    // The API serves JSON; the only HTML is Swagger UI, whose inline scripts a strict CSP would block.
    contentSecurityPolicy: false,
    hsts: { maxAge: config.http.hstsMaxAgeSeconds, includeSubDomains: true },
  });
  // Multipart is parsed only where a handler asks for it (scan imports), with that handler's limits.
  await app.register(multipart as never, { limits: { files: 1, parts: 10, fileSize: config.scans.importMaxBytes } });
  if (config.http.corsOrigins.length > 0) app.enableCors({ origin: config.http.corsOrigins, credentials: false });
  if (config.http.swaggerEnabled) mountSwagger(app);

  app.enableShutdownHooks();
  return app;
}

function mountSwagger(app: NestFastifyApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Cloud security posture API')
      .setDescription('Multi-tenant JSON:API for providers, scans, findings, roles and row filter rules.')
      .setVersion('1')
      // The contract's one scheme takes either form; the second entry lets Swagger UI send an API key.
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Use `Bearer <token>` for JWT or `Api-Key <key>` for API keys.' })
      .addApiKey({ type: 'apiKey', in: 'header', name: 'Authorization', description: '`Api-Key <key>`: type the word Api-Key, a space, then the key.' }, API_KEY_SECURITY)
      .build(),
  );
  SwaggerModule.setup(`${API_PREFIX}/docs`, app, document, {
    jsonDocumentUrl: `${API_PREFIX}/docs/openapi.json`,
    swaggerOptions: { persistAuthorization: true },
  });
}
