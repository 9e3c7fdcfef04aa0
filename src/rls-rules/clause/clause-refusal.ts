import { ApiError } from '../../common/errors/api-error';

const CLAUSE_POINTER = '/data/attributes/clause';

/** Every refused clause is a 400 invalid_clause pointing at the clause attribute, with a detail naming the offending part. */
export function refuse(detail: string): never {
  throw ApiError.badRequest('invalid_clause', detail, { pointer: CLAUSE_POINTER });
}
