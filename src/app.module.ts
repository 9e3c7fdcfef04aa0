import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AuthModule } from './auth/auth.module';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { JsonApiExceptionFilter } from './common/errors/json-api-exception.filter';
import { DatabaseModule } from './database/database.module';
import { IncludeGraphModule } from './common/jsonapi/include-graph';
import { TenantInterceptor } from './database/tenant.interceptor';
import { FindingsModule } from './findings/findings.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { IngestionsModule } from './ingestions/ingestions.module';
import { IntegrationsModule } from './integrations/integrations.module';
import { ProcessorsModule } from './processors/processors.module';
import { ProvidersModule } from './providers/providers.module';
import { AccessModule } from './rbac/access.module';
import { RequestLogInterceptor } from './logging/request-log.interceptor';
import { RbacModule } from './rbac/rbac.module';
import { RedisModule } from './redis/redis.module';
import { RlsRulesModule } from './rls-rules/rls-rules.module';
import { SamlModule } from './saml/saml.module';
import { ScansModule } from './scans/scans.module';
import { TasksModule } from './tasks/tasks.module';

/** Modules every process needs besides its configuration (see withConfig): databases, Redis, access control. */
export const PLATFORM_MODULES = [DatabaseModule, RedisModule, RbacModule];

/** The HTTP API. Interceptor order matters: logging context first, then the tenant transaction. */
@Module({
  imports: [...PLATFORM_MODULES, IncludeGraphModule, AuthModule, ApiKeysModule, HealthModule, MetricsModule, ProvidersModule, AccessModule, TasksModule, FindingsModule, ScansModule, RlsRulesModule, IngestionsModule, SamlModule, IntegrationsModule, ProcessorsModule],
  providers: [
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_INTERCEPTOR, useClass: RequestLogInterceptor },
    { provide: APP_INTERCEPTOR, useClass: TenantInterceptor },
    { provide: APP_FILTER, useClass: JsonApiExceptionFilter },
  ],
})
export class AppModule {
  static withWorkers(workerModules: Array<DynamicModule | (new () => unknown)>): DynamicModule {
    return { module: AppModule, imports: workerModules };
  }
}
