import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The compiled tests under `root` (dist/test) whose TypeScript source is still
 * under `sources` (test/): tsc never deletes an output, so a test renamed or
 * removed since the last build would otherwise run on from its stale copy.
 */
export function findTests(root: string, sources: string, filters: string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) {
        if (entry !== 'bench') walk(path);
      } else if (entry.endsWith('.test.js') && existsSync(join(sources, relative(root, path)).replace(/\.js$/, '.ts'))) found.push(path);
    }
  };
  walk(root);
  const chosen = filters.length ? found.filter((f) => filters.some((x) => f.includes(x))) : found;
  // Given no file, node --test would pick every file under test/ by its own patterns, benchmarks included.
  if (chosen.length === 0) throw new Error(`No test file matches ${filters.join(', ') || 'the test folder'} (is the build current?)`);
  return chosen.sort();
}
