import { applyDecorators, Header, HttpCode, SetMetadata } from '@nestjs/common';
import { Public } from '../../auth/public.decorator';
import { OwnerOnly, Permission, RequirePermissions } from '../../rbac/permissions';
import type { JsonSchema } from '../jsonapi/attribute-schema';
import { JSONAPI_MEDIA_TYPE } from '../jsonapi/media-type';
import type { BodyOptions } from '../jsonapi/request-body';
import type { ResourceDefinition } from '../jsonapi/resource-definition';

/** The OpenAPI security scheme for `Authorization: Api-Key <key>`, an alternative to the bearer token. */
export const API_KEY_SECURITY = 'api-key';
/** The OpenAPI security scheme for `Authorization: Bearer <token>`. */
export const BEARER_SECURITY = 'bearer';

/** Where the OpenAPI generator finds an endpoint's options (src/openapi reads them). */
export const ENDPOINT_OPTIONS = 'cspm:endpoint';

/**
 * What a request body holds:
 * - `resource`: a JSON:API resource document a handler reads itself rather than through
 *   @ResourceBody (which the document reads directly), the same options it gives parseResourceBody;
 * - `multipart`: a form upload, its fields described as a JSON Schema object.
 */
export type RequestBodySpec =
  | { resource: Pick<BodyOptions<object>, 'type' | 'attributes' | 'relationships'> }
  | { multipart: JsonSchema }
  /** A flat form (the SAML POST binding). */
  | { form: JsonSchema };

export interface EndpointOptions {
  summary: string;
  /** Permissions the caller's first role must hold. */
  permissions?: Permission[];
  /** No access token needed. */
  public?: boolean;
  ownerOnly?: boolean;
  status?: number;
  /** The resource type a success answer renders (202 answers are the Task). */
  resource?: ResourceDefinition<any>;
  /** The answer is a list of `resource`. */
  list?: boolean;
  /** A success answer that is not a resource type's document (e.g. the token pair). */
  answer?: JsonSchema;
  /** Besides its success answer, may redirect (302) with a Location header. */
  redirects?: boolean;
  /** Besides its success answer, may answer 202 with the Task that prepares it. */
  mayAccept?: boolean;
  /** A success answer in another media type than JSON:API (e.g. a zip). */
  produces?: string;
  body?: RequestBodySpec;
  /** Error statuses this endpoint gives beyond those implied by its kind (see src/openapi/error-answers.ts). */
  errors?: number[];
}

/**
 * One decorator per endpoint carrying its auth rule, permissions, status,
 * media type and OpenAPI description, so every controller method reads the
 * same way and the OpenAPI document is generated from what it declares.
 */
export function Endpoint(options: EndpointOptions) {
  const status = options.status ?? 200;
  const decorators = [SetMetadata(ENDPOINT_OPTIONS, options), HttpCode(status)];
  if (status !== 204) decorators.push(Header('content-type', JSONAPI_MEDIA_TYPE));
  if (options.public) decorators.push(Public());
  if (options.permissions?.length) decorators.push(RequirePermissions(...options.permissions));
  if (options.ownerOnly) decorators.push(OwnerOnly());
  return applyDecorators(...decorators);
}
