import { listOf, text } from '../common/jsonapi/attribute-schema';
import { ResourceDefinition } from '../common/jsonapi/resource-definition';
import type { CheckFactValues } from './query/check-facts';
import type { FindingMetadata } from './findings.service';

/** Prowler's older (deprecated there) picker: the services and regions of the findings a filter selects. */
export const findingServicesRegionsResource: ResourceDefinition<FindingMetadata> = {
  schema: { services: listOf(text), regions: listOf(text) },
  type: 'finding-dynamic-filters',
  id: () => 'finding-dynamic-filters',
  attributes: (m) => ({ services: m.services, regions: m.regions }),
};

export const findingMetadataResource: ResourceDefinition<FindingMetadata & CheckFactValues> = {
  schema: {
    services: listOf(text),
    regions: listOf(text),
    resource_types: listOf(text),
    severities: listOf(text),
    check_ids: listOf(text),
    categories: listOf(text),
    groups: listOf(text),
  },
  type: 'findings-metadata',
  id: () => 'findings-metadata',
  attributes: (m) => ({
    services: m.services,
    regions: m.regions,
    resource_types: m.resource_types,
    severities: m.severities,
    check_ids: m.check_ids,
    categories: m.categories,
    groups: m.groups,
  }),
};
