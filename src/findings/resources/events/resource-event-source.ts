import { ApiError } from '../../../common/errors/api-error';

/** What a source of change events is asked: one resource of one provider account, over the last days. */
export interface ResourceEventRequest {
  provider: string;
  providerUid: string;
  resourceUid: string;
  region: string;
  lookbackDays: number;
  limit: number;
  /** Include read-only calls (Describe*, Get*, List*…). */
  includeReadEvents: boolean;
}

/** One event as Prowler's ResourceEventSerializer has it. */
export interface ResourceEventRow {
  id: string;
  event_time: string;
  event_name: string;
  event_source: string;
  actor: string;
  actor_uid: string | null;
  actor_type: string | null;
  source_ip_address: string | null;
  user_agent: string | null;
  request_data: unknown;
  response_data: unknown;
  error_code: string | null;
  error_message: string | null;
}

/** The port resource events go through (in Prowler, AWS CloudTrail's LookupEvents with the scan's credentials). */
export interface ResourceEventSource {
  events(request: ResourceEventRequest): Promise<ResourceEventRow[]>;
}

export const RESOURCE_EVENT_SOURCE = Symbol('RESOURCE_EVENT_SOURCE');

const SETTING = 'RESOURCE_EVENTS_URL';

function unavailable(detail: string): ApiError {
  return new ApiError(503, 'events_unavailable', detail);
}

/** The default: these machines reach no cloud, so the answer says so and names the setting that would change it. */
export class UnconfiguredEventSource implements ResourceEventSource {
  async events(): Promise<ResourceEventRow[]> {
    throw unavailable(`No source of resource events is configured (${SETTING} is not set), so this deployment cannot read the resource's history.`);
  }
}

const TEXT_FIELDS = ['id', 'event_time', 'event_name', 'event_source', 'actor'] as const;
const NULLABLE_TEXT_FIELDS = ['actor_uid', 'actor_type', 'source_ip_address', 'user_agent', 'error_code', 'error_message'] as const;

/**
 * Asks an HTTP service for the events (RESOURCE_EVENTS_URL): POST
 * `{provider, provider_uid, resource_uid, region, lookback_days, limit,
 * include_read_events}`, answer `{events: [...]}` in the serializer's shape.
 * A deployment can put a CloudTrail reader of its own behind it; tests start
 * one. A service that cannot be reached is 503; one that answers something
 * unusable is 502, as Prowler answers a provider it cannot use.
 */
export class HttpEventSource implements ResourceEventSource {
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async events(request: ResourceEventRequest): Promise<ResourceEventRow[]> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          provider: request.provider,
          provider_uid: request.providerUid,
          resource_uid: request.resourceUid,
          region: request.region,
          lookback_days: request.lookbackDays,
          limit: request.limit,
          include_read_events: request.includeReadEvents,
        }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw unavailable(`The resource events service at ${SETTING} did not answer.`);
    }
    if (response.status >= 500) throw unavailable(`The resource events service failed with HTTP ${response.status}.`);
    const body = (await response.json().catch(() => null)) as { events?: unknown } | null;
    if (!response.ok || !Array.isArray(body?.events)) {
      throw new ApiError(502, 'events_error', `The resource events service gave no usable answer (HTTP ${response.status}).`);
    }
    return body.events.slice(0, request.limit).map(toEvent);
  }
}

/** Keeps the serializer's fields only, each of its type; an event without the required ones is an unusable answer. */
function toEvent(raw: unknown): ResourceEventRow {
  const event = (raw ?? {}) as Record<string, unknown>;
  const text = (name: string) => {
    const value = event[name];
    if (typeof value !== 'string' || value === '') throw new ApiError(502, 'events_error', `The resource events service answered an event without '${name}'.`);
    return value;
  };
  const row = Object.fromEntries(TEXT_FIELDS.map((name) => [name, text(name)])) as Pick<ResourceEventRow, (typeof TEXT_FIELDS)[number]>;
  if (Number.isNaN(Date.parse(row.event_time))) throw new ApiError(502, 'events_error', 'The resource events service answered an event_time that is not a date.');
  const nullable = Object.fromEntries(NULLABLE_TEXT_FIELDS.map((name) => [name, typeof event[name] === 'string' ? event[name] : null]));
  return {
    ...row,
    event_time: new Date(row.event_time).toISOString(),
    ...(nullable as Pick<ResourceEventRow, (typeof NULLABLE_TEXT_FIELDS)[number]>),
    request_data: event.request_data ?? null,
    response_data: event.response_data ?? null,
  };
}
