import { compileClause } from './clause-compiler';
import type { CompiledClause } from './compiled-clause';

/**
 * A rule has one clause for all of its datasets. The compiled text does not
 * depend on the dataset (columns become markers, a `findings.` qualifier is
 * dropped), only its validity does, so the clause is checked against each
 * dataset in turn and the one compiled form is stored.
 */
export async function compileForDatasets(clause: string, datasets: readonly string[]): Promise<CompiledClause> {
  if (datasets.length === 0) throw new RangeError('compileForDatasets needs at least one dataset');
  const compiled = await Promise.all(datasets.map((dataset) => compileClause(clause, dataset)));
  if (compiled.some((each) => each.sql !== compiled[0].sql)) {
    throw new Error('compileForDatasets: the compiled form differs between datasets');
  }
  return compiled[0];
}
