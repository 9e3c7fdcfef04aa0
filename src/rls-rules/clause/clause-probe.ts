import type { EntityManager } from 'typeorm';
import { refuse } from './clause-refusal';
import { bindClause, type CompiledClause, type TemplateName } from './compiled-clause';
import type { ColumnType, Dataset } from './dataset-catalog';

const SQL_TYPES: Record<ColumnType, string> = {
  text: 'pg_catalog.text',
  uuid: 'pg_catalog.uuid',
  timestamptz: 'pg_catalog.timestamptz',
  boolean: 'pg_catalog.bool',
  integer: 'pg_catalog.int4',
};
const PROBE_ALIAS = 'probe';

/**
 * Runs the compiled clause once, at write time, over a row of NULLs typed like
 * the dataset's catalog columns. The compiler's kinds are coarse; PostgreSQL's
 * own analysis and constant folding catch what they miss (an untyped
 * `{{ current_user_email }} IS NULL`, `CAST('x' AS int)`), so such a clause is
 * a 400 now instead of a failing read on every request later.
 *
 * The error aborts the surrounding transaction, which is fine: the refusal
 * rolls it back anyway.
 */
export async function probeClause(
  manager: EntityManager,
  compiled: CompiledClause,
  dataset: Dataset,
  values: (name: TemplateName) => unknown,
): Promise<void> {
  const columns = [...dataset.columns].map(([name, type]) => `NULL::${SQL_TYPES[type]} AS "${name}"`).join(', ');
  const bound = bindClause(compiled, { tableAlias: PROBE_ALIAS, paramOffset: 0 });
  try {
    await manager.query(`SELECT 1 FROM (SELECT ${columns}) AS "${PROBE_ALIAS}" WHERE ${bound.sql} LIMIT 0`, bound.params.map(values));
  } catch (error) {
    const message = postgresMessage(error);
    if (message === undefined) throw error;
    // PostgreSQL speaks of $1, $2: name the templates the admin wrote instead.
    const readable = message.replace(/\$(\d+)/g, (text, number: string) => {
      const name = bound.params[Number(number) - 1];
      return name ? `{{ ${name} }}` : text;
    });
    refuse(`PostgreSQL cannot evaluate the clause on the ${dataset.name} dataset: ${readable}`);
  }
}

/** The message of an error PostgreSQL reported for the statement; undefined for anything else (a lost connection, say). */
function postgresMessage(error: unknown): string | undefined {
  const driverError = (error as { driverError?: { code?: unknown; message?: unknown } }).driverError;
  const code = typeof driverError?.code === 'string' ? driverError.code : '';
  // Classes 22 (data exception) and 42 (syntax or access rule) are about the statement itself.
  if (!code.startsWith('22') && !code.startsWith('42')) return undefined;
  return typeof driverError?.message === 'string' ? driverError.message : undefined;
}
