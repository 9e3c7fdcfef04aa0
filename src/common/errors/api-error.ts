/**
 * A domain error that maps one-to-one onto a JSON:API error object.
 * Services throw these; the global exception filter renders them, so no
 * feature builds HTTP error bodies by hand.
 */
export interface ApiErrorSource {
  pointer?: string;
  parameter?: string;
  header?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly source?: ApiErrorSource,
  ) {
    super(detail);
    this.name = 'ApiError';
  }

  static badRequest(code: string, detail: string, source?: ApiErrorSource): ApiError {
    return new ApiError(400, code, detail, source);
  }

  static notFound(detail = 'Not found.'): ApiError {
    return new ApiError(404, 'not_found', detail);
  }

  static conflict(code: string, detail: string, source?: ApiErrorSource): ApiError {
    return new ApiError(409, code, detail, source);
  }

  static unprocessable(code: string, detail: string, source?: ApiErrorSource): ApiError {
    return new ApiError(422, code, detail, source);
  }

  static forbidden(detail = 'You do not have permission to perform this action.'): ApiError {
    return new ApiError(403, 'permission_denied', detail);
  }

  static unauthorized(detail = 'Authentication credentials were not provided or are invalid.'): ApiError {
    return new ApiError(401, 'not_authenticated', detail);
  }
}

/** Several errors at once, e.g. every invalid field of a body. */
export class ApiErrors extends Error {
  constructor(readonly errors: ApiError[]) {
    super(errors.map((e) => e.detail).join('; '));
    this.name = 'ApiErrors';
  }
}
