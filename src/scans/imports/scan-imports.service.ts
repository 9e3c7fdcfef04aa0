import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { principalTransaction } from '../../database/rls-transaction';
import { Principal } from '../../database/tenant-context';
import { TenantDatabase } from '../../database/tenant-database';
import { newId } from '../../database/uuid';
import { ProvidersService } from '../../providers/providers.service';
import { ScanStarter } from '../../tasks/scans/scan-starter';
import { TaskRow } from '../../tasks/task.resource';
import { ScanSpool } from '../spool/scan-spool';
import { receiveUpload } from './scan-upload';

/**
 * Imports: the upload is streamed into the spool with no transaction open
 * (the caller's permission was checked before the body was read), then one
 * short transaction checks the provider and creates the scan and its
 * `scan-import` task. Whatever fails on the way removes the upload.
 */
@Injectable()
export class ScanImportsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly database: TenantDatabase,
    private readonly spool: ScanSpool,
    private readonly providers: ProvidersService,
    private readonly starter: ScanStarter,
  ) {}

  async receive(request: FastifyRequest, principal: Principal): Promise<TaskRow> {
    const uploadId = newId();
    try {
      const upload = await receiveUpload(request, this.spool, uploadId, this.config.scans.importMaxBytes);
      return await principalTransaction(this.database.app, principal, async () => {
        await this.providers.getVisibleProvider(upload.providerId);
        return this.starter.startImport(upload.providerId, upload.name, uploadId);
      });
    } catch (error) {
      await this.spool.remove(uploadId);
      throw error;
    }
  }
}
