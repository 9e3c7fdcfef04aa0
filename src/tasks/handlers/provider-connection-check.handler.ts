import { Inject, Injectable } from '@nestjs/common';
import { rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { PROVIDER_CONNECTOR, ProviderConnector } from '../connection/provider-connector';
import { JobArguments } from '../jobs/job-definitions';
import { TenantJobContext } from '../jobs/job-context';
import { JobHandler } from '../jobs/job-handler.decorator';
import { ProviderJob } from '../jobs/provider-job.wrapper';
import { TenantJob } from '../jobs/tenant-job.wrapper';

/**
 * Checks a provider's credentials through the connector port and records the
 * answer on the provider. The connector call runs between two short
 * transactions: no transaction stays open while a remote service thinks.
 */
@JobHandler('provider-connection-check')
@Injectable()
export class ProviderConnectionCheckHandler {
  constructor(@Inject(PROVIDER_CONNECTOR) private readonly connector: ProviderConnector) {}

  @TenantJob({ transaction: 'step' })
  @ProviderJob()
  async process({ providerId }: JobArguments['provider-connection-check'], context: TenantJobContext): Promise<unknown> {
    const [target] = await context.inTenant(() =>
      rows<{ provider: string; uid: string; secret_type: string | null }>(
        tenantManager(),
        `SELECT p.provider, p.uid, s.secret_type FROM providers p LEFT JOIN provider_secrets s ON s.provider_id = p.id WHERE p.id = $1`,
        [providerId],
      ),
    );
    const result = await this.connector.check({ provider: target.provider, uid: target.uid, secretType: target.secret_type }, context.signal);
    await context.inTenant(() =>
      tenantManager().query(`UPDATE providers SET connected = $2, connection_last_checked_at = now(), updated_at = now() WHERE id = $1`, [
        providerId,
        result.connected,
      ]),
    );
    return result;
  }
}
