import { CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { from, lastValueFrom, Observable } from 'rxjs';
import { ApiError } from '../common/errors/api-error';
import { OWNER_ONLY, Permission, REQUIRED_PERMISSIONS } from '../rbac/permissions';
import { PrincipalLoader } from '../rbac/principal-loader';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { currentContext } from './tenant-context';
import { TenantDatabase } from './tenant-database';

const READ_METHODS = new Set(['GET', 'HEAD']);
const OUTSIDE_TENANT_TRANSACTION = 'outside_tenant_transaction';

/**
 * For the rare authenticated endpoint that works across tenants (switching
 * tenant): it runs with a verified token but without the current tenant's transaction.
 */
export const OutsideTenantTransaction = () => SetMetadata(OUTSIDE_TENANT_TRANSACTION, true);

/**
 * One tenant transaction per authenticated request. Guards run before
 * interceptors in Nest, so the permission check lives here, inside the
 * transaction: the caller's membership, first role and visibility are read
 * with the same snapshot the handler uses, and a role change holds on the
 * very next request in every process, with no cache to invalidate.
 */
@Injectable()
export class TenantInterceptor implements NestInterceptor {
  constructor(
    private readonly database: TenantDatabase,
    private readonly principals: PrincipalLoader,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthenticatedUser }>();
    const user = request.user;
    if (!user) return next.handle();

    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(OUTSIDE_TENANT_TRANSACTION, targets)) return next.handle();
    const required = this.reflector.getAllAndOverride<Permission[] | undefined>(REQUIRED_PERMISSIONS, targets) ?? [];
    const ownerOnly = this.reflector.getAllAndOverride<boolean | undefined>(OWNER_ONLY, targets) === true;
    const readOnly = READ_METHODS.has(request.method);

    return from(
      this.database.transaction(
        user.tenantId,
        async () => {
          const scope = currentContext()?.scope;
          const principal = this.principals.fromOpeningRows(scope?.openingRows, user.userId, user.tenantId);
          if (!principal || !scope) throw ApiError.unauthorized('The token no longer grants access to this tenant.');
          scope.principal = principal;
          if (ownerOnly && principal.membershipRole !== 'owner') throw ApiError.forbidden('Only an owner of the tenant may do this.');
          for (const permission of required) {
            if (!principal.permissions.has(permission)) {
              throw ApiError.forbidden(
                principal.roleId
                  ? `Your role lacks the '${permission}' permission.`
                  : 'You hold no role in this tenant, so you cannot do this.',
              );
            }
          }
          return lastValueFrom(next.handle(), { defaultValue: undefined });
        },
        // The principal query travels with BEGIN and the tenant setting: one round trip, same snapshot.
        { readOnly, requestId: String(request.id), opening: this.principals.openingStatement(user.userId) },
      ),
    );
  }
}
