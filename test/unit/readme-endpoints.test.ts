import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { endpointTable, TABLE_BEGIN, TABLE_END } from '../../src/openapi/endpoint-table';
import { openApiDocument } from '../support/openapi-check';

describe("README's endpoint table", () => {
  it('is the one generated from the OpenAPI document (node dist/scripts/write-openapi.js --readme rewrites it)', () => {
    const readme = readFileSync(resolve(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf(TABLE_BEGIN) + TABLE_BEGIN.length, readme.indexOf(TABLE_END)).trim();
    const expected = endpointTable(openApiDocument());
    const missing = expected.split('\n').filter((row) => !table.includes(row));
    assert.deepEqual(missing, [], `rows the README lacks or has differently:\n${missing.join('\n')}`);
    assert.equal(table, expected);
  });

  it('links each path to its operation in Swagger UI', () => {
    const document = openApiDocument();
    const table = endpointTable(document);
    const operation = document.paths['/api/v1/providers'].post;
    assert.ok(table.includes(`[\`/api/v1/providers\`](http://127.0.0.1:8080/api/v1/docs#/${operation.tags[0]}/${operation.operationId})`), table.slice(0, 500));
  });
});
