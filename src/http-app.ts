import { RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import multipart from '@fastify/multipart';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DestinationStream } from 'pino';
import { mountQueueDashboard } from './admin/queue-dashboard';
import { AppConfig } from './config/app-config';
import { withConfig } from './config/config.module';
import { ApiError } from './common/errors/api-error';
import { answerClientError } from './common/errors/client-error-response';
import { excerpt } from './common/errors/excerpt';
import { sendError } from './common/errors/json-api-exception.filter';
import { registerDrainHooks } from './common/http/http-drain';
import { securityHeaders } from './common/http/security-headers';
import { assertStorableBody, assertStorableQuery } from './common/http/storable-strings';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './common/json/json-depth';
import { JSONAPI_MEDIA_TYPE } from './common/jsonapi/media-type';
import { createRootLogger, PinoNestLogger } from './logging/logger';
import { mountMetrics } from './metrics/metrics-http';
import { API_PREFIX, UNPREFIXED_ROUTES } from './common/http/route-prefix';
import { buildOpenApiDocument } from './openapi/openapi-document';
import { SAML_ACS_PATH, withoutSamlTrailingSlash } from './saml/saml-paths';

export { API_PREFIX };
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const FORM_BODY_TYPE = 'application/x-www-form-urlencoded';
const ACCEPTED_BODY_TYPES = new Set([JSONAPI_MEDIA_TYPE, 'application/json', 'multipart/form-data']);

function hasBody(headers: IncomingMessage['headers']): boolean {
  const length = headers['content-length'];
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined;
}

/**
 * Fastify's trustProxy for TRUST_PROXY. A hop count trusts that many hops
 * nearest the API (Fastify itself now treats a bare number as "trust
 * nothing"), so the client address is the one the outermost trusted proxy
 * appended; a list trusts only those proxies' addresses.
 */
function trustProxyOption(setting: AppConfig['http']['trustProxy']): false | string[] | ((address: string, hop: number) => boolean) {
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return setting;
}

type JsonParser = (request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void) => void;

/**
 * Wraps Fastify's JSON parser with a depth check that runs first: a body
 * nested deeper than MAX_JSON_DEPTH is a 400 before anything recurses into it.
 */
function depthLimited(parse: JsonParser): JsonParser {
  return (request, body, done) => {
    if (jsonDepthExceeds(body)) {
      return done(ApiError.badRequest('too_deep', `The body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels.`, { pointer: '' }));
    }
    parse(request, body, done);
  };
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
    trustProxy: trustProxyOption(config.http.trustProxy),
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    requestTimeout: config.http.requestTimeoutMs,
    // Node looks for timed-out requests every 30 s by default: far too coarse for a request timeout of a few seconds.
    ...(config.http.requestTimeoutMs > 0 ? { http: { connectionsCheckingInterval: Math.min(30000, Math.max(100, config.http.requestTimeoutMs / 4)) } } : {}),
    // Errors raised before any hook runs are JSON:API like every other: the router's (bad URL,
    // over-long path parameter) and Node's parser's (431, 408, 400). A closing server's 503 comes from http-drain.
    frameworkErrors: (error: unknown, request: FastifyRequest, reply: FastifyReply) => sendError(error, request, reply),
    clientErrorHandler: answerClientError,
    return503OnClosing: false,
    requestIdHeader: false,
    rewriteUrl: (request: IncomingMessage) => withoutSamlTrailingSlash(request.url ?? '/'),
    genReqId: (request: IncomingMessage) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
  });
  const fastify = adapter.getInstance();
  registerDrainHooks(fastify);
  fastify.addHook('onRoute', (route) => {
    if (route.method !== 'HEAD') logger.info({ context: 'Routes', method: route.method, url: route.url }, 'mapped route');
  });
  // JSON:API's media type is parsed as JSON, within the same body limit, and both refuse deep nesting before parsing.
  const parseJson = depthLimited(fastify.getDefaultJsonParser('error', 'error'));
  fastify.removeContentTypeParser(['application/json']);
  for (const type of ['application/json', JSONAPI_MEDIA_TYPE]) fastify.addContentTypeParser(type, { parseAs: 'string' }, parseJson);
  // The SAML assertion consumer takes the IdP's HTTP-POST binding, a flat form (the onRequest hook allows it on that path only).
  fastify.addContentTypeParser(FORM_BODY_TYPE, { parseAs: 'string' }, (_request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void) =>
    done(null, Object.fromEntries(new URLSearchParams(body))),
  );
  // Bodies are JSON:API (or plain JSON); multipart only for file uploads. Fastify would otherwise
  // accept text/plain and hand the handler a string.
  fastify.removeContentTypeParser(['text/plain']);
  fastify.addHook('onRequest', async (request) => {
    if (!hasBody(request.headers)) return;
    const type = String(request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type === FORM_BODY_TYPE && SAML_ACS_PATH.test(request.url)) return;
    if (!ACCEPTED_BODY_TYPES.has(type)) {
      throw new ApiError(415, 'unsupported_media_type', `Unsupported content type '${excerpt(type || 'none')}'; send ${JSONAPI_MEDIA_TYPE}.`);
    }
  });
  fastify.addHook('preValidation', async (request) => {
    assertStorableQuery(request.query);
    assertStorableBody(request.body);
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
    // The JSON parsers are the depth-limited ones registered above; Nest's own would replace them.
    bodyParser: false,
  });
  app.setGlobalPrefix(API_PREFIX, {
    exclude: UNPREFIXED_ROUTES.map((path) => ({ path, method: RequestMethod.GET })),
  });
  const headers = securityHeaders({
    // The API serves JSON; the only HTML is Swagger UI, whose inline scripts a strict CSP would block.
    contentSecurityPolicy: false,
    hsts: { maxAge: config.http.hstsMaxAgeSeconds, includeSubDomains: true },
  });
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  // Multipart is parsed only where a handler asks for it (scan imports), with that handler's limits.
  await app.register(multipart as never, { limits: { files: 1, parts: 10, fileSize: config.scans.importMaxBytes } });
  if (config.http.corsOrigins.length > 0) app.enableCors({ origin: config.http.corsOrigins, credentials: false });
  if (config.http.swaggerEnabled) mountSwagger(app, rootModule as Function);
  mountMetrics(app, config);
  await mountQueueDashboard(app, config);

  // No enableShutdownHooks: a process that serves HTTP drains it first (closeOnSignals, in main.ts and the local start).
  return app;
}

/**
 * Swagger UI at /api/v1/docs and the JSON beside it, serving the document
 * generated from the handlers' own declarations (src/openapi). @nestjs/swagger
 * only serves the UI: its own scanner sees none of the query specs, bodies
 * or resource schemas.
 */
function mountSwagger(app: NestFastifyApplication, rootModule: Function): void {
  const document = buildOpenApiDocument(rootModule, { prefix: API_PREFIX, unprefixed: UNPREFIXED_ROUTES });
  SwaggerModule.setup(`${API_PREFIX}/docs`, app, document as never, {
    jsonDocumentUrl: `${API_PREFIX}/docs/openapi.json`,
    swaggerOptions: { persistAuthorization: true, tryItOutEnabled: true },
  });
}
