import { rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { ProviderDeletedError } from './job-errors';
import { TenantJobBody, TenantJobContext } from './job-context';
import { isTenantBound } from './tenant-job.wrapper';

/**
 * The provider-deletion wrapper: goes inside the tenant wrapper (it needs the
 * tenant's transaction). The provider must be live when the job starts and at
 * every step the body takes; otherwise the job ends with the outcome
 * `provider_deleted` (task failed, `result.outcome = 'provider_deleted'`) and
 * is not retried.
 */
export function providerJob<A extends { providerId: string }, R>(body: TenantJobBody<A, R>): TenantJobBody<A, R> {
  return async (args, context) => {
    const guarded: TenantJobContext = {
      ...context,
      inTenant: (fn) =>
        context.inTenant(async (manager) => {
          await assertProviderLive(args.providerId);
          return fn(manager);
        }),
    };
    await guarded.inTenant(async () => undefined);
    return body(args, guarded);
  };
}

async function assertProviderLive(providerId: string): Promise<void> {
  const [provider] = await rows(tenantManager(), `SELECT 1 FROM providers WHERE id = $1 AND deleted_at IS NULL`, [providerId]);
  if (!provider) throw new ProviderDeletedError(providerId);
}

/**
 * providerJob as a decorator on a handler's `process` method, below
 * @TenantJob: decorators apply bottom up, so it wraps the body first and the
 * tenant wrapper goes around both. Listed above @TenantJob it would receive
 * the tenant processor instead of a body; that stops the class from loading.
 */
export function ProviderJob() {
  return <T extends TenantJobBody<any, unknown>>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<T>): void => {
    const body = descriptor.value!;
    if (isTenantBound(body)) throw new Error(`${target.constructor.name}.${String(key)}: list @ProviderJob below @TenantJob, inside the tenant's transaction.`);
    const guarded = function (this: unknown, args: { providerId: string }, context: TenantJobContext) {
      return providerJob(body.bind(this))(args, context);
    };
    descriptor.value = guarded as unknown as T;
  };
}
