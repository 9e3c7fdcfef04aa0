import { CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { defer, from, lastValueFrom, mergeMap, Observable } from 'rxjs';
import { ApiError } from '../common/errors/api-error';
import { OWNER_ONLY, Permission, REQUIRED_PERMISSIONS } from '../rbac/permissions';
import { PrincipalLoader } from '../rbac/principal-loader';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { ReplicaRouter } from './replica-router';
import { currentContext, Principal, ReadWriteSession, runWithContext } from './tenant-context';
import { TenantDatabase } from './tenant-database';

const READ_METHODS = new Set(['GET', 'HEAD']);
const OUTSIDE_TENANT_TRANSACTION = 'outside_tenant_transaction';

/**
 * For the rare authenticated endpoint that works across tenants (switching
 * tenant): it runs with a verified token but without the current tenant's transaction.
 */
export const OutsideTenantTransaction = () => SetMetadata(OUTSIDE_TENANT_TRANSACTION, true);

const AUTHORIZE_BEFORE_BODY = 'authorize_before_body';

/**
 * For an endpoint that streams a large request body (a file upload): the
 * caller and their permissions are checked in a short transaction that ends
 * before the handler reads the body, so no transaction (or pooled
 * connection) waits on a slow upload. The handler finds the principal with
 * `authorizedPrincipal(request)` and opens its own transaction for its writes.
 */
export const AuthorizeBeforeBody = () => SetMetadata(AUTHORIZE_BEFORE_BODY, true);

const AUTHORIZED_PRINCIPAL = Symbol('authorizedPrincipal');

/** The principal TenantInterceptor checked for an @AuthorizeBeforeBody() endpoint; throws anywhere else. */
export function authorizedPrincipal(request: FastifyRequest): Principal {
  const principal = (request as FastifyRequest & { [AUTHORIZED_PRINCIPAL]?: Principal })[AUTHORIZED_PRINCIPAL];
  if (!principal) throw new Error('authorizedPrincipal() is only available on @AuthorizeBeforeBody() endpoints.');
  return principal;
}

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
    private readonly router: ReplicaRouter,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthenticatedUser }>();
    const user = request.user;
    if (!user) return next.handle();
    const targets = [context.getHandler(), context.getClass()];
    const acrossTenants = this.reflector.getAllAndOverride<boolean>(OUTSIDE_TENANT_TRANSACTION, targets) === true;
    const handled = () => this.withinTenant(context, next, request, user, acrossTenants);
    if (!this.router.configured) return handled();
    // Read-your-writes: the request's transactions note where their commits reached, and that is
    // stored before the answer leaves; a read asks once whether the replica has this user's writes.
    const session: ReadWriteSession = {
      userId: user.userId,
      tenantId: user.tenantId,
      readOnly: READ_METHODS.has(request.method),
      acrossTenants,
      committedAt: null,
    };
    return defer(() =>
      from(
        runWithContext({ session }, async () => {
          try {
            return await lastValueFrom(handled(), { defaultValue: undefined });
          } finally {
            await this.router.rememberWrites(session);
          }
        }),
      ),
    );
  }

  private withinTenant(
    context: ExecutionContext,
    next: CallHandler,
    request: FastifyRequest,
    user: AuthenticatedUser,
    acrossTenants: boolean,
  ): Observable<unknown> {
    const targets = [context.getHandler(), context.getClass()];
    if (acrossTenants) {
      // These act for the user across tenants (switching, joining one); an API key is bound to its tenant.
      if (user.apiKeyId) throw ApiError.forbidden('An API key acts only within its own tenant; sign in to do this.');
      return next.handle();
    }
    const required = this.reflector.getAllAndOverride<Permission[] | undefined>(REQUIRED_PERMISSIONS, targets) ?? [];
    const ownerOnly = this.reflector.getAllAndOverride<boolean | undefined>(OWNER_ONLY, targets) === true;
    const readOnly = READ_METHODS.has(request.method);
    const authorize = () => {
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
      return principal;
    };
    // The principal query travels with BEGIN and the tenant setting: one round trip, same snapshot.
    const options = { readOnly, requestId: String(request.id), opening: this.principals.openingStatement(user.userId, user.apiKeyId) };

    if (this.reflector.getAllAndOverride<boolean>(AUTHORIZE_BEFORE_BODY, targets)) {
      return from(this.database.transaction(user.tenantId, async () => authorize(), options)).pipe(
        mergeMap((principal) => {
          (request as FastifyRequest & { [AUTHORIZED_PRINCIPAL]?: Principal })[AUTHORIZED_PRINCIPAL] = principal;
          return next.handle();
        }),
      );
    }
    return from(
      this.database.transaction(
        user.tenantId,
        async () => {
          authorize();
          return lastValueFrom(next.handle(), { defaultValue: undefined });
        },
        options,
      ),
    );
  }
}
