import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../../../common/errors/api-error';
import { rows } from '../../../database/sql';
import { tenantManager } from '../../../database/tenant-context';
import { ResourcesService } from '../resources.service';
import { RESOURCE_EVENT_SOURCE, ResourceEventRow, ResourceEventSource } from './resource-event-source';

/**
 * A resource's change history (Prowler's /resources/{id}/events): the
 * resource is read as /resources/{id} reads it (404 when the caller may not
 * see it), then its provider account's events come through the configured
 * source. As in Prowler, only AWS resources have events.
 */
@Injectable()
export class ResourceEventsService {
  constructor(
    private readonly resources: ResourcesService,
    @Inject(RESOURCE_EVENT_SOURCE) private readonly source: ResourceEventSource,
  ) {}

  async events(resourceId: string, options: { lookbackDays: number; limit: number; includeReadEvents: boolean }): Promise<ResourceEventRow[]> {
    const resource = await this.resources.get(resourceId);
    const [provider] = await rows<{ provider: string; uid: string }>(tenantManager(), `SELECT provider, uid FROM providers WHERE id = $1`, [resource.provider_id]);
    if (provider?.provider !== 'aws') {
      throw ApiError.badRequest('invalid_provider', 'Events are only available for AWS resources.', { pointer: '/data/attributes/provider' });
    }
    return this.source.events({
      provider: provider.provider,
      providerUid: provider.uid,
      resourceUid: resource.uid,
      region: resource.region,
      ...options,
    });
  }
}
