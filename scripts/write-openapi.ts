import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppModule } from '../src/app.module';
import { API_PREFIX, UNPREFIXED_ROUTES } from '../src/common/http/route-prefix';
import { buildOpenApiDocument } from '../src/openapi/openapi-document';

/**
 * Writes the OpenAPI document to `openapi.json` at the repository root, after
 * `tsc` in `npm run build`, so clients can be generated without a running
 * server. It reads only decorator metadata: no database, no Redis.
 */
const target = resolve(__dirname, '..', '..', 'openapi.json');
const document = buildOpenApiDocument(AppModule, { prefix: API_PREFIX, unprefixed: UNPREFIXED_ROUTES });
writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
