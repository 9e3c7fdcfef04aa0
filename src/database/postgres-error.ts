/**
 * The SQLSTATE of a PostgreSQL error, whether pg raised it (a DatabaseError)
 * or TypeORM wrapped it (QueryFailedError's driverError); undefined for
 * anything else.
 */
export function postgresCode(error: unknown): string | undefined {
  const candidate = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = candidate?.driverError?.code ?? (candidate?.constructor?.name === 'DatabaseError' ? candidate.code : undefined);
  return typeof code === 'string' ? code : undefined;
}
