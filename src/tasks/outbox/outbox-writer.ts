import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { afterCommit, tenantManager, tenantScope } from '../../database/tenant-context';
import { newId } from '../../database/uuid';
import { queueNamespace } from '../queue/bullmq-connection';
import { OutboxRelay } from './outbox-relay';
import { OutboxOperation } from './outbox-row';

/**
 * Writes hand-overs to BullMQ into the current tenant transaction: they
 * exist only if it commits, and then they cannot be lost (the relay retries
 * until Redis takes them). After commit the local relay is nudged, so the
 * usual delay is one relay round, not a poll interval.
 */
@Injectable()
export class OutboxWriter {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly relay: OutboxRelay,
  ) {}

  async write(operation: OutboxOperation): Promise<void> {
    const hasJob = operation.operation !== 'remove-scheduler';
    // A held job waits at available_at 'infinity', which the relay never reaches, until something releases it
    // (scans: start_next_waiting_scan, see the scan-queue migration).
    const held = operation.operation === 'add-job' && operation.held === true;
    await tenantManager().query(
      `INSERT INTO outbox (id, tenant_id, queue_namespace, queue, operation, job_name, job_id, payload, options, available_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $10::boolean THEN 'infinity'::timestamptz ELSE now() END)`,
      [
        newId(),
        tenantScope().tenantId,
        queueNamespace(this.config),
        operation.queue,
        operation.operation,
        hasJob ? operation.jobName : null,
        operation.jobId,
        JSON.stringify(hasJob ? operation.payload : {}),
        JSON.stringify(hasJob ? operation.options : {}),
        held,
      ],
    );
    afterCommit(() => this.relay.nudge());
  }

  /** Drops a job that was never handed over (a task cancelled before the relay ran). */
  async discardJob(jobId: string): Promise<void> {
    await tenantManager().query(`DELETE FROM outbox WHERE job_id = $1 AND operation = 'add-job'`, [jobId]);
  }
}
