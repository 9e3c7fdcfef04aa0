import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { principalTransaction } from '../../database/rls-transaction';
import type { EntityManager } from 'typeorm';
import { ApiError } from '../../common/errors/api-error';
import { Principal, tenantScope } from '../../database/tenant-context';
import { TenantDatabase } from '../../database/tenant-database';
import { newId } from '../../database/uuid';
import { ProvidersService } from '../../providers/providers.service';
import { PrincipalLoader } from '../../rbac/principal-loader';
import { ScanStarter } from '../../tasks/scans/scan-starter';
import { TaskRow } from '../../tasks/task.resource';
import { ScanSpool } from '../spool/scan-spool';
import { receiveUpload } from './scan-upload';

/**
 * Imports: the upload is streamed into the spool with no transaction open
 * (the caller's permission was checked before the body was read, and the
 * provider too when the form names it before the file), then one short
 * transaction checks both again and creates the scan and its `scan-import`
 * task. Whatever fails on the way removes the upload.
 */
@Injectable()
export class ScanImportsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly database: TenantDatabase,
    private readonly spool: ScanSpool,
    private readonly providers: ProvidersService,
    private readonly starter: ScanStarter,
    private readonly principals: PrincipalLoader,
  ) {}

  async receive(request: FastifyRequest, principal: Principal): Promise<TaskRow> {
    const uploadId = newId();
    const checkProvider = async (providerId: string) => {
      await principalTransaction(this.database.app, principal, () => this.providers.getVisibleProvider(providerId), true);
    };
    try {
      const upload = await receiveUpload(request, this.spool, uploadId, this.config.scans.importMaxBytes, checkProvider);
      return await this.database.transaction(principal.tenantId, async (manager) => {
        await this.recheck(manager, principal);
        await this.providers.getVisibleProvider(upload.providerId);
        return this.starter.startImport(upload.providerId, upload.name, uploadId);
      });
    } catch (error) {
      await this.spool.remove(uploadId);
      throw error;
    }
  }

  /**
   * An upload can take minutes: the caller's role is read again in the
   * transaction that creates the scan, so a permission or visibility taken
   * away meanwhile holds (fail closed).
   */
  private async recheck(manager: EntityManager, principal: Principal): Promise<void> {
    const current = await this.principals.load(manager, principal.userId, principal.tenantId);
    if (!current) throw ApiError.unauthorized('The token no longer grants access to this tenant.');
    if (!current.permissions.has('manage_scans')) throw ApiError.forbidden(`Your role lacks the 'manage_scans' permission.`);
    tenantScope().principal = current;
  }
}
