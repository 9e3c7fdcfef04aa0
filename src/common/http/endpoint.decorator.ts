import { applyDecorators, Header, HttpCode } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiSecurity } from '@nestjs/swagger';
import { Public } from '../../auth/public.decorator';
import { OwnerOnly, Permission, RequirePermissions } from '../../rbac/permissions';
import { JSONAPI_MEDIA_TYPE } from '../jsonapi/media-type';

/** The OpenAPI security scheme for `Authorization: Api-Key <key>`, an alternative to the bearer token. */
export const API_KEY_SECURITY = 'api-key';

export interface EndpointOptions {
  summary: string;
  /** Permissions the caller's first role must hold. */
  permissions?: Permission[];
  /** No access token needed. */
  public?: boolean;
  ownerOnly?: boolean;
  status?: number;
}

/**
 * One decorator per endpoint carrying its auth rule, permissions, status,
 * media type and OpenAPI summary, so every controller method reads the same way.
 */
export function Endpoint(options: EndpointOptions) {
  const status = options.status ?? 200;
  const permissionNote = options.permissions?.length ? ` Needs: ${options.permissions.join(', ')}.` : '';
  const decorators = [
    ApiOperation({ summary: options.summary, description: `${options.summary}.${permissionNote}` }),
    HttpCode(status),
    ApiResponse({ status, description: status === 204 ? 'No content' : 'JSON:API document' }),
  ];
  if (status !== 204) decorators.push(Header('content-type', JSONAPI_MEDIA_TYPE));
  if (options.public) decorators.push(Public());
  else decorators.push(ApiBearerAuth(), ApiSecurity(API_KEY_SECURITY));
  if (options.permissions?.length) decorators.push(RequirePermissions(...options.permissions));
  if (options.ownerOnly) decorators.push(OwnerOnly());
  return applyDecorators(...decorators);
}
