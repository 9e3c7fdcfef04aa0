import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * Prowler's contract (the drf-spectacular OpenAPI 3.0 document of the Prowler
 * App API) as a checker of this API's answers: for a request the contract has,
 * the status must be one it documents and the body must match that status's
 * schema. Answers to operations the contract does not have (this API's own
 * extensions) are not checked.
 */
export const CONTRACT_PATH = '/work/shared/reference/prowler-api-v1.yaml';

interface Parameter {
  in: string;
  name: string;
  required?: boolean;
  schema?: any;
}

export interface ContractOperation {
  method: string;
  /** The contract's path template, e.g. `/api/v1/tenants/{tenant_pk}/memberships`. */
  path: string;
  parameters: Parameter[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

export interface ContractMismatch {
  operation: string;
  status: number;
  problems: string[];
}

/**
 * Where the generated contract says something Prowler itself does not answer.
 * Each entry was checked in Prowler's own server (prowler-cloud/prowler, api/src/backend/api/);
 * an ajv error matching one of these is not a mismatch.
 */
interface KnownDifference {
  /** Operation (`GET /api/v1/providers/{id}`) or '*' for every operation. */
  operation: string;
  /** Matches `<instancePath with item indexes as *> <keyword> <message>`. */
  error: RegExp;
  reason: string;
}

const CONTRACT_DIFFERENCES: KnownDifference[] = [
  {
    // api/v1/views.py, OverviewViewSet.threatscore: the snapshots are serialized with many=True (the latest per provider,
    // or the one combined snapshot), so data is an array; the generated ThreatScoreSnapshotResponse types it as one object.
    operation: 'GET /api/v1/overviews/threatscore',
    error: /^\/data must be object$/,
    reason: 'ThreatScore answers a list of snapshots in Prowler',
  },
  {
    // api/v1/serializers.py: the overview and compliance-overview serializers declare `id` as a field
    // (a service name, a provider, a framework), which drf-spectacular lists among the attributes;
    // rest_framework_json_api's renderer takes it out as the resource object's id.
    operation: '*',
    error: /^\/data(\/\*)?\/attributes must have required property 'id'$/,
    reason: "a resource's id is the resource object's id, never an attribute",
  },
  {
    // rest_framework_json_api's renderer (build_json_resource_obj, used by every view in api/v1/views.py) always
    // writes the id, and links.self for serializers with a `url` field; the generated "Create" and Membership
    // schemas have no id, and no resource schema allows links.
    operation: '*',
    error: /^\/(data|included)(\/\*)? must NOT have additional properties \((id|links|meta)\)$/,
    reason: 'Prowler writes id (and links.self) on every resource object; the generated schemas forbid them on some',
  },
  {
    // api/v1/serializers.py: ProviderSerializer.secret and the like are to-one relationships that may be empty,
    // which rest_framework_json_api renders as {"data": null}; the schema types data as an object.
    operation: '*',
    error: /^\/(data|included)(\/\*)?\/relationships\/[a-z_]+\/data must be object$/,
    reason: 'an empty to-one relationship is {"data": null} in Prowler; the generated schema does not mark it nullable',
  },
  {
    // api/v1/serializers.py: UserSerializer.memberships and .roles are many=True relationships, rendered as arrays;
    // the generated User schema types their data as one object.
    operation: '*',
    error: /^\/data(\/\*)?\/relationships\/(memberships|roles)\/data must be object$/,
    reason: "a user's memberships and roles are to-many in Prowler's answers",
  },
  {
    // api/v1/serializers.py: MembershipSerializer's user and tenant are rendered by rest_framework_json_api as
    // {type, id} with the related primary key; the generated schema gives that id the format of a URL.
    operation: '*',
    error: /^\/data(\/\*)?\/relationships\/(user|tenant)\/data\/id must match format "uri"$/,
    reason: "a membership's user and tenant ids are UUIDs in Prowler's answers",
  },
  {
    // api/v1/serializers.py: TaskSerializer reads completed_at from the task result's date_done, null until the
    // task ends (and ScanSerializer's completed_at until the scan does).
    operation: '*',
    error: /^\/data(\/\*)?\/attributes\/completed_at must be string$/,
    reason: 'a task or scan that has not ended has completed_at null in Prowler too',
  },
  {
    // api/models.py: Provider.connected and connection_last_checked_at are nullable; ProviderSerializer.get_connection
    // returns them as they are, so a provider never checked has {connected: null, last_checked_at: null}.
    operation: '*',
    error: /^\/data(\/\*)?\/attributes\/connection\/(connected|last_checked_at) must be (boolean|string)$/,
    reason: 'a provider whose connection was never checked has connected and last_checked_at null in Prowler',
  },
  // api/v1/serializer_utils/integrations.py: the configuration alternatives overlap (the Security Hub one
  // requires nothing and allows anything, so an S3 or Slack configuration matches it as well as its own) and the
  // Jira one forbids the domain, projects and issue types IntegrationCreateSerializer writes into it.
  ...['POST /api/v1/integrations', 'PATCH /api/v1/integrations/{id}'].map((operation) => ({
    operation,
    error: /^\/data\/attributes\/configuration (must match exactly one schema in oneOf|must NOT have additional properties \(\w+\)|must have required property '\w+')$/,
    reason: "an integration's configuration is answered as stored, which the generated oneOf cannot hold",
  })),
];

/**
 * Operations Prowler answers with a list (`data: [...]`, api/v1/views.py: FindingViewSet.latest and
 * ResourceViewSet.latest paginate; OverviewViewSet.providers, providers_count, services and regions serialise
 * many=True) though the generated contract documents one object: each item is checked against it.
 */
const LIST_ANSWERS = new Set([
  'GET /api/v1/findings/latest',
  'GET /api/v1/resources/latest',
  'GET /api/v1/overviews/providers',
  'GET /api/v1/overviews/providers/count',
  'GET /api/v1/overviews/services',
  'GET /api/v1/overviews/regions',
  // FindingGroupViewSet.latest and OverviewViewSet.findings_severity_timeseries answer lists too.
  'GET /api/v1/finding-groups/latest',
  'GET /api/v1/overviews/findings_severity/timeseries',
]);

const NULLABLE_TIME = { type: ['string', 'null'], format: 'date-time' };
/**
 * Operations whose generated answer schema is another resource's: FindingGroupViewSet.resources and
 * .latest_resources are documented with FindingGroupResponse, but answer a paginated list of
 * FindingGroupResourceSerializer rows (type finding-group-resources). Those are checked against that
 * serializer's shape, written out here from its fields.
 */
const SERIALIZER_SCHEMAS: Record<string, unknown> = Object.fromEntries(
  ['GET /api/v1/finding-groups/{id}/resources', 'GET /api/v1/finding-groups/latest/{check_id}/resources'].map((operation) => [
    operation,
    {
      type: 'object',
      required: ['data'],
      properties: {
        data: {
          type: 'array',
          items: {
            type: 'object',
            required: ['type', 'id', 'attributes'],
            additionalProperties: false,
            properties: {
              type: { enum: ['finding-group-resources'] },
              id: { type: 'string', format: 'uuid' },
              attributes: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  resource: {
                    type: 'object',
                    properties: Object.fromEntries(['uid', 'name', 'service', 'region', 'type', 'resource_group'].map((k) => [k, { type: 'string' }])),
                  },
                  provider: { type: 'object', properties: Object.fromEntries(['type', 'uid', 'alias'].map((k) => [k, { type: 'string' }])) },
                  finding_id: { type: 'string', format: 'uuid' },
                  status: { type: 'string' },
                  severity: { type: 'string' },
                  muted: { type: 'boolean' },
                  delta: { type: ['string', 'null'] },
                  first_seen_at: NULLABLE_TIME,
                  last_seen_at: NULLABLE_TIME,
                  muted_reason: { type: ['string', 'null'] },
                },
              },
            },
          },
        },
      },
    },
  ]),
);

/**
 * drf-spectacular gave one component name to several answers (a name collision), so these operations point at
 * another operation's schema (PATCH /providers/{id} at MuteRule). An update is checked against the read
 * schema of the same path; the others are checked for their status only.
 */
const COLLIDED_SCHEMAS = ['#/components/schemas/SerializerMetaclassResponse', '#/components/schemas/OpenApiResponseResponse'];

/**
 * Where this API answers more than Prowler, as issue 12 allows ("our extra members may stay").
 */
const EXTENSIONS: KnownDifference[] = [
  {
    operation: '*',
    error: /^\/data must NOT have additional properties \(relationships\)$/,
    reason: 'create and update answers carry the relationships of the read representation',
  },
];

type Validators = Map<string, ValidateFunction>;

let loaded: { operations: ContractOperation[]; ajv: Ajv; validators: Validators } | null = null;

function contract() {
  if (loaded) return loaded;
  const document = parse(readFileSync(CONTRACT_PATH, 'utf8')) as any;
  const operations: ContractOperation[] = [];
  for (const [path, methods] of Object.entries<any>(document.paths)) {
    for (const [method, operation] of Object.entries<any>(methods)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      operations.push({ method: method.toUpperCase(), path, parameters: operation.parameters ?? [], responses: operation.responses ?? {} });
    }
  }
  // Literal segments win over templates: /findings/latest before /findings/{id}.
  operations.sort((a, b) => literalSegments(b.path) - literalSegments(a.path));
  const ajv = new Ajv({ strict: false, allErrors: true, discriminator: false });
  addFormats(ajv);
  ajv.addFormat('binary', true);
  ajv.addSchema({ $id: 'contract', components: { schemas: toJsonSchema(document.components.schemas) } });
  loaded = { operations, ajv, validators: new Map() };
  return loaded;
}

function literalSegments(template: string): number {
  return template.split('/').filter((s) => s && !s.startsWith('{')).length;
}

/** OpenAPI 3.0 schema → JSON Schema for ajv: `nullable` becomes a null alternative; refs point into the `contract` document. */
export function toJsonSchema(schema: any): any {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: any = {};
  for (const [key, value] of Object.entries<any>(schema)) {
    if (key === 'nullable' || key === 'example' || key === 'examples') continue;
    if (key === '$ref' && typeof value === 'string') out.$ref = `contract${value}`;
    else out[key] = toJsonSchema(value);
  }
  if (out.properties && typeof out.properties === 'object') {
    // Write-only members (passwords) are never in an answer, though drf-spectacular lists them as required.
    const writeOnly = Object.keys(out.properties).filter((name) => out.properties[name]?.writeOnly === true);
    for (const name of writeOnly) delete out.properties[name];
    if (Array.isArray(out.required)) out.required = out.required.filter((name: string) => !writeOnly.includes(name));
  }
  if (schema.nullable === true) {
    if (typeof out.type === 'string' && !out.$ref && !out.allOf && !out.oneOf && !out.anyOf) {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
      return out;
    }
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

/** The contract operation a concrete request path falls under, if any. */
export function contractOperation(method: string, url: string): ContractOperation | undefined {
  const path = url.split('?')[0].replace(/\/+$/, '');
  const segments = path.split('/');
  return contract().operations.find((operation) => {
    if (operation.method !== method.toUpperCase()) return false;
    const template = operation.path.split('/');
    return template.length === segments.length && template.every((part, i) => part.startsWith('{') || part === segments[i]);
  });
}

export function contractOperations(): ContractOperation[] {
  return contract().operations;
}

/** What every error answer looks like in Prowler (rest_framework_json_api's exception handler, api/v1/exceptions.py). */
const ERROR_DOCUMENT = {
  type: 'object',
  required: ['errors'],
  properties: {
    errors: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['detail'], properties: { detail: { type: 'string' }, status: { type: 'string' }, source: { type: 'object' }, code: { type: 'string' } } },
    },
  },
};

function validatorFor(operation: ContractOperation, status: string, schema: unknown): ValidateFunction {
  const { ajv, validators } = contract();
  const key = `${operation.method} ${operation.path} ${status}`;
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(toJsonSchema(schema));
    validators.set(key, validate);
  }
  return validate;
}

function describe(error: ErrorObject): string {
  const path = error.instancePath.replace(/\/\d+(?=\/|$)/g, '/*');
  const extra = error.keyword === 'additionalProperties' ? ` (${(error.params as any).additionalProperty})` : '';
  return `${path} ${error.message}${extra}`;
}

function allowed(list: KnownDifference[], operation: string, problem: string): boolean {
  return list.some((d) => (d.operation === '*' || d.operation === operation) && d.error.test(problem));
}

/**
 * The mismatches of one answer with the contract, or null when the contract
 * does not have the operation. `url` may carry a query string: with a sparse
 * fieldset (`fields[...]`) the attributes the schema requires may be left out, as in Prowler.
 */
export function checkAnswer(method: string, url: string, status: number, body: unknown): ContractMismatch | null {
  const operation = contractOperation(method, url);
  if (!operation) return null;
  const name = `${operation.method} ${operation.path}`;
  const sparse = /[?&]fields(%5B|\[)/i.test(url);
  const documented = operation.responses[String(status)];
  const problems: string[] = [];
  if (!documented) {
    // drf-spectacular documents the success answers only; Prowler's errors all share one shape.
    if (status >= 400 && status < 500) {
      const validate = contract().ajv.compile(ERROR_DOCUMENT);
      if (!validate(body)) problems.push(...(validate.errors ?? []).map(describe));
    } else {
      problems.push(`status ${status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`);
    }
  } else {
    const content = documented.content?.['application/vnd.api+json'] ?? documented.content?.['application/json'];
    let schema = content?.schema as { $ref?: string } | undefined;
    let operationForSchema = operation;
    if (schema?.$ref && COLLIDED_SCHEMAS.includes(schema.$ref)) {
      const read = operation.method === 'PATCH' ? contractOperation('GET', url) : undefined;
      schema = read?.responses['200']?.content?.['application/vnd.api+json']?.schema as { $ref?: string } | undefined;
      if (read) operationForSchema = read;
    }
    const own = status === 200 ? SERIALIZER_SCHEMAS[name] : undefined;
    if (own) {
      const validate = validatorFor(operation, 'serializer', own);
      if (!validate(body)) problems.push(...(validate.errors ?? []).map(describe));
    } else if (schema && !(status === 204 && body === undefined)) {
      const validate = validatorFor(operationForSchema, String(status), schema);
      const documents = LIST_ANSWERS.has(name) && Array.isArray((body as { data?: unknown })?.data)
        ? ((body as { data: unknown[] }).data.map((item) => ({ ...(body as object), data: item })) as unknown[])
        : [body];
      for (const document of documents) {
        if (!validate(document)) problems.push(...(validate.errors ?? []).map(describe));
      }
    } else if (status === 204 && body !== undefined && body !== '') {
      problems.push('a 204 answer has a body');
    }
  }
  const remaining = problems.filter(
    (p) =>
      !(sparse && /\/(attributes|relationships) must have required property/.test(p)) &&
      !allowed(CONTRACT_DIFFERENCES, name, p) &&
      !allowed(EXTENSIONS, name, p),
  );
  return remaining.length ? { operation: name, status, problems: [...new Set(remaining)] } : null;
}
