import { anything, dateTime, nullable, text } from '../../../common/jsonapi/attribute-schema';
import { QuerySpec } from '../../../common/jsonapi/query-spec';
import { ResourceDefinition } from '../../../common/jsonapi/resource-definition';
import { ApiError } from '../../../common/errors/api-error';
import { ResourceEventRow } from './resource-event-source';

const ATTRIBUTES = [
  'event_time', 'event_name', 'event_source', 'actor', 'actor_uid', 'actor_type', 'source_ip_address', 'user_agent',
  'request_data', 'response_data', 'error_code', 'error_message',
] as const;

export const resourceEventResource: ResourceDefinition<ResourceEventRow> = {
  schema: {
    event_time: dateTime,
    event_name: text,
    event_source: text,
    actor: text,
    actor_uid: nullable(text),
    actor_type: nullable(text),
    source_ip_address: nullable(text),
    user_agent: nullable(text),
    /** The source's request and response documents, as it gives them (null when it gives none). */
    request_data: anything,
    response_data: anything,
    error_code: nullable(text),
    error_message: nullable(text),
  },
  type: 'resource-events',
  id: (row) => row.id,
  attributes: (row) => Object.fromEntries(ATTRIBUTES.map((name) => [name, row[name]])),
};

/**
 * Prowler's events parameters: `lookback_days` (1 to 90, default 90),
 * `page[size]` (1 to 50, default 50: the number of events, there are no
 * further pages), `include_read_events`.
 */
export const RESOURCE_EVENTS_QUERY: QuerySpec = {
  extraParameters: ['lookback_days', 'include_read_events'],
  fields: { 'resource-events': ['id', ...ATTRIBUTES] },
  pageSizeDefault: 50,
  pageSizeMax: 50,
};

export const LOOKBACK_DAYS = { min: 1, max: 90, default: 90 };

export function lookbackDays(raw: string | undefined): number {
  if (raw === undefined) return LOOKBACK_DAYS.default;
  if (!/^\d{1,3}$/.test(raw)) throw ApiError.badRequest('invalid', 'lookback_days must be a valid integer.', { parameter: 'lookback_days' });
  const days = Number(raw);
  if (days < LOOKBACK_DAYS.min || days > LOOKBACK_DAYS.max) {
    throw ApiError.badRequest('out_of_range', `lookback_days must be between ${LOOKBACK_DAYS.min} and ${LOOKBACK_DAYS.max}.`, { parameter: 'lookback_days' });
  }
  return days;
}

/** Prowler takes `true` (any case) as true and anything else as false; here anything but true/false is refused. */
export function includeReadEvents(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  const value = raw.toLowerCase();
  if (value !== 'true' && value !== 'false') throw ApiError.badRequest('invalid', 'include_read_events must be true or false.', { parameter: 'include_read_events' });
  return value === 'true';
}
