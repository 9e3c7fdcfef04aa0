import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTests } from '../../scripts/test-files';

describe('the test runner picks compiled tests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cspm-test-picking-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const compiled = join(dir, 'dist', 'test');
  const sources = join(dir, 'test');
  const file = (path: string) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '');
  };
  for (const name of ['unit/kept.test', 'e2e/other.test']) {
    file(join(sources, `${name}.ts`));
    file(join(compiled, `${name}.js`));
  }
  // Left in dist by a build before its source was renamed; a bench, never a test; a helper.
  file(join(compiled, 'unit', 'renamed-away.test.js'));
  file(join(sources, 'bench', 'bench-x.test.ts'));
  file(join(compiled, 'bench', 'bench-x.test.js'));
  file(join(sources, 'support', 'helper.ts'));
  file(join(compiled, 'support', 'helper.js'));

  it('only those whose TypeScript source still exists, benchmarks aside', () => {
    assert.deepEqual(findTests(compiled, sources, []), [join(compiled, 'e2e', 'other.test.js'), join(compiled, 'unit', 'kept.test.js')]);
  });

  it('filters by substring, and refuses a filter that matches nothing', () => {
    assert.deepEqual(findTests(compiled, sources, ['kept']), [join(compiled, 'unit', 'kept.test.js')]);
    assert.throws(() => findTests(compiled, sources, ['renamed-away']), /No test file matches renamed-away/);
  });
});
