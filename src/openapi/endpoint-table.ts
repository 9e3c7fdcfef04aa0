import type { OpenApiDocument } from './openapi-document';

/** Where the README's endpoint table links to: Swagger UI of the local start (see Quick start). */
export const SWAGGER_UI_URL = 'http://127.0.0.1:8080/api/v1/docs';
export const TABLE_BEGIN = '<!-- endpoint table: generated from the OpenAPI document (node dist/scripts/write-openapi.js --readme) -->';
export const TABLE_END = '<!-- end of endpoint table -->';

/**
 * The README's endpoint table, one row per operation of the document, each
 * path linking to its operation in Swagger UI (`#/<tag>/<operationId>`).
 * A test compares the README with it, so the table cannot fall behind.
 */
export function endpointTable(document: OpenApiDocument): string {
  const rows = ['| method | path | what it does | access |', '|---|---|---|---|'];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const link = `${SWAGGER_UI_URL}#/${encodeURIComponent(operation.tags[0] ?? 'default')}/${operation.operationId}`;
      const summary = operation.summary.replace(/\|/g, '\\|');
      rows.push(`| ${method.toUpperCase()} | [\`${path}\`](${link}) | ${summary} | ${operation['x-access']} |`);
    }
  }
  return rows.join('\n');
}

/** The README with its endpoint table (between the markers) replaced by `table`. */
export function withEndpointTable(readme: string, table: string): string {
  const begin = readme.indexOf(TABLE_BEGIN);
  const end = readme.indexOf(TABLE_END);
  if (begin === -1 || end < begin) throw new Error('README.md has no endpoint table markers');
  return `${readme.slice(0, begin + TABLE_BEGIN.length)}\n${table}\n${readme.slice(end)}`;
}
