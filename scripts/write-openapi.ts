import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppModule } from '../src/app.module';
import { API_PREFIX, UNPREFIXED_ROUTES } from '../src/common/http/route-prefix';
import { endpointTable, withEndpointTable } from '../src/openapi/endpoint-table';
import { buildOpenApiDocument } from '../src/openapi/openapi-document';

/**
 * Writes the OpenAPI document to `openapi.json` at the repository root, after
 * `tsc` in `npm run build`, so clients can be generated without a running
 * server. It reads only decorator metadata: no database, no Redis.
 * With --readme it also rewrites the README's endpoint table from the document.
 */
const target = resolve(__dirname, '..', '..', 'openapi.json');
const document = buildOpenApiDocument(AppModule, { prefix: API_PREFIX, unprefixed: UNPREFIXED_ROUTES });
writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
if (process.argv.includes('--readme')) {
  const readme = resolve(__dirname, '..', '..', 'README.md');
  writeFileSync(readme, withEndpointTable(readFileSync(readme, 'utf8'), endpointTable(document)));
}
