import { rows } from '../database/sql';
import { tenantManager, tenantScope } from '../database/tenant-context';

export interface Delivery {
  state: 'sending' | 'sent' | 'refused';
  sent_parts: string[];
  error: string | null;
}

/** What an integration already sent for a run (a scan, or a Jira dispatch's task); undefined before its first part. */
export async function findDelivery(integrationId: string, runId: string): Promise<Delivery | undefined> {
  const [found] = await rows<Delivery>(
    tenantManager(),
    `SELECT state, sent_parts, error FROM integration_deliveries WHERE integration_id = $1 AND run_id = $2`,
    [integrationId, runId],
  );
  return found;
}

/** Notes one part as sent, in its own short transaction right after it went out. */
export async function recordSentPart(integrationId: string, runId: string, part: string): Promise<void> {
  await tenantManager().query(
    `INSERT INTO integration_deliveries (tenant_id, integration_id, run_id, sent_parts) VALUES ($1, $2, $3, ARRAY[$4::text])
     ON CONFLICT (tenant_id, integration_id, run_id) DO UPDATE
       SET sent_parts = CASE WHEN $4 = ANY(integration_deliveries.sent_parts) THEN integration_deliveries.sent_parts
                             ELSE integration_deliveries.sent_parts || $4::text END,
           updated_at = now()`,
    [tenantScope().tenantId, integrationId, runId, part],
  );
}

/** Ends a run: everything sent, refused for good, or (still 'sending') failed for now with the reason kept. */
export async function settleDelivery(integrationId: string, runId: string, state: Delivery['state'], error: string | null): Promise<void> {
  await tenantManager().query(
    `INSERT INTO integration_deliveries (tenant_id, integration_id, run_id, state, error) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, integration_id, run_id) DO UPDATE SET state = $4, error = $5, updated_at = now()`,
    [tenantScope().tenantId, integrationId, runId, state, error],
  );
}
