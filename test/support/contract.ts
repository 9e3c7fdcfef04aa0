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
    // api/v1/serializers.py: ProviderSerializer.secret is a to-one ResourceRelatedField(allow_null) and
    // rest_framework_json_api renders an absent one as {"data": null}; the schema types data as an object.
    operation: '*',
    error: /^\/(data|included)(\/\*)?\/relationships\/[a-z_]+\/data type must be object$/,
    reason: 'an empty to-one relationship is {"data": null} in Prowler; the generated schema does not mark it nullable',
  },
  {
    // rest_framework_json_api's renderer (used by every view in api/v1/views.py) adds links.self to each resource
    // whose serializer has a `url` field (ProviderSerializer, ScanSerializer, TaskSerializer...), and meta on some.
    operation: '*',
    error: /^\/(data|included)(\/\*)? additionalProperties must NOT have additional properties \((links|meta)\)$/,
    reason: 'Prowler puts links.self (and meta) on resource objects; the generated schema forbids any member but type, id, attributes, relationships',
  },
  {
    // api/v1/views.py: TaskViewSet serialises django_celery_results' TaskResult; date_done (completed_at) is
    // null until the task ends, and result/task_args are whatever the task stored.
    operation: '*',
    error: /^\/data(\/\*)?\/attributes\/completed_at type must be string$/,
    reason: 'a task or scan that has not ended has completed_at null in Prowler too (TaskSerializer, ScanSerializer)',
  },
];

/**
 * Answers that do not match yet because of how resources are rendered here, which
 * is being changed elsewhere (issue 12, rendering half). Remove an entry once it
 * no longer matches anything: the contract test fails on entries that never match.
 */
export const RENDERING_ALLOW_LIST: KnownDifference[] = [
  {
    operation: '*',
    error: /^\/(data|included)(\/\*)?\/relationships must have required property '[a-z_]+'$/,
    reason: 'empty to-one relationships are left out instead of rendered as {"data": null}',
  },
  {
    operation: '*',
    error: /^\/(data|included)(\/\*)?\/attributes must have required property '[a-z_]+'$/,
    reason: 'resources lack some of the attributes of Prowler\'s read schema',
  },
  {
    operation: '*',
    error: /^\/data(\/\*)?\/attributes\/trigger must be equal to one of the allowed values$/,
    reason: 'imported scans carry trigger "imported"; the import origin is to move to an extra attribute',
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

/** Which allow-list entries matched something during this process, so stale ones can be found. */
export const usedAllowances = new Set<string>();

function allowed(list: KnownDifference[], operation: string, problem: string, kind: string): boolean {
  const entry = list.find((d) => (d.operation === '*' || d.operation === operation) && d.error.test(problem));
  if (entry) usedAllowances.add(`${kind}:${entry.reason}`);
  return entry !== undefined;
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
    const schema = documented.content?.['application/vnd.api+json']?.schema ?? documented.content?.['application/json']?.schema;
    if (schema && !(status === 204 && body === undefined)) {
      const validate = validatorFor(operation, String(status), schema);
      if (!validate(body)) problems.push(...(validate.errors ?? []).map(describe));
    } else if (status === 204 && body !== undefined && body !== '') {
      problems.push('a 204 answer has a body');
    }
  }
  const remaining = problems.filter(
    (p) =>
      !(sparse && /\/attributes must have required property/.test(p)) &&
      !allowed(CONTRACT_DIFFERENCES, name, p, 'contract') &&
      !allowed(RENDERING_ALLOW_LIST, name, p, 'rendering'),
  );
  return remaining.length ? { operation: name, status, problems: [...new Set(remaining)] } : null;
}
