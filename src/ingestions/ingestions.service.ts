import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../common/errors/api-error';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Principal, tenantScope } from '../database/tenant-context';
import { TenantDatabase } from '../database/tenant-database';
import { newId } from '../database/uuid';
import { PrincipalLoader } from '../rbac/principal-loader';
import { receiveFileForm } from '../scans/imports/scan-upload';
import { ScanSpool } from '../scans/spool/scan-spool';
import { TasksService } from '../tasks/tasks.service';
import { IngestionRow, ingestionResult } from './ingestion.resource';

const NO_FIELDS: ReadonlySet<string> = new Set();

/**
 * `POST /ingestions`: what `prowler … --push-to-cloud` sends (multipart, one
 * part `file`). The file streams into the import spool with no transaction
 * open, as an import's does; then a short transaction checks the caller's
 * role again and writes the `scan-ingestion` task, which does the rest.
 */
@Injectable()
export class IngestionsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly database: TenantDatabase,
    private readonly spool: ScanSpool,
    private readonly tasks: TasksService,
    private readonly principals: PrincipalLoader,
  ) {}

  /** `apiKeyId`: the key the CLI pushed with, which must still be live when the task is written. */
  async receive(request: FastifyRequest, principal: Principal, apiKeyId?: string): Promise<IngestionRow> {
    const uploadId = newId();
    try {
      await receiveFileForm(request, this.spool, uploadId, this.config.scans.importMaxBytes, {
        fields: NO_FIELDS,
        description: 'one part named file (Prowler JSON-OCSF output)',
      });
      // The principal query (with the key's liveness) rides with BEGIN, as on any request.
      const opening = this.principals.openingStatement(principal.userId, apiKeyId);
      return await this.database.transaction(
        principal.tenantId,
        async () => {
          this.recheck(principal);
          const task = await this.tasks.enqueue({ name: 'scan-ingestion', args: { uploadId, userId: principal.userId } });
          return { task, scanTask: null };
        },
        { opening },
      );
    } catch (error) {
      await this.spool.remove(uploadId);
      throw error;
    }
  }

  /** The ingestion and, once started, its scan's import task; 404 for another job's task or one the caller cannot see. */
  async get(id: string): Promise<IngestionRow> {
    const task = await this.tasks.get(id);
    if (task.name !== 'scan-ingestion') throw ApiError.notFound();
    const scanTaskId = ingestionResult(task).scan_task_id;
    // A scan task the caller cannot see (their visibility shrank since) leaves the ingestion at its first step.
    const scanTask = scanTaskId ? await this.tasks.get(scanTaskId).catch((error: unknown) => (error instanceof ApiError ? null : Promise.reject(error))) : null;
    return { task, scanTask };
  }

  /** An upload can take minutes: the role (and the key) are read again where the task is written (fail closed). */
  private recheck(principal: Principal): void {
    const scope = tenantScope();
    const current = this.principals.fromOpeningRows(scope.openingRows, principal.userId, principal.tenantId);
    if (!current) throw ApiError.unauthorized('The token no longer grants access to this tenant.');
    if (!current.permissions.has('manage_scans')) throw ApiError.forbidden(`Your role lacks the 'manage_scans' permission.`);
    scope.principal = current;
  }
}
