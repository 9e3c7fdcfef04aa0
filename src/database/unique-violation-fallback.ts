import type { EntityManager } from 'typeorm';
import { postgresCode } from './postgres-error';

const UNIQUE_VIOLATION = '23505';

/**
 * Runs `plain` (statements that insert rows expected to be new) under a
 * savepoint, and answers its result; should it fail on a unique violation,
 * rolls back to the savepoint and answers `tolerant` (the same statements
 * with ON CONFLICT) instead. A plain insert costs a little over half of an
 * ON CONFLICT one, which writes every row speculatively and then confirms
 * it; the conflict check is then paid only when a row exists. Any other
 * error is thrown as it is, the transaction left to its caller.
 */
export async function insertPlainlyUnlessStored<T>(manager: EntityManager, plain: () => Promise<T>, tolerant: () => Promise<T>): Promise<T> {
  await manager.query('SAVEPOINT plain_insert');
  try {
    const result = await plain();
    await manager.query('RELEASE SAVEPOINT plain_insert');
    return result;
  } catch (error) {
    if (postgresCode(error) !== UNIQUE_VIOLATION) throw error;
  }
  await manager.query('ROLLBACK TO SAVEPOINT plain_insert');
  return tolerant();
}
