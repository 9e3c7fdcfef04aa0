import { randomUUID } from 'node:crypto';
import { ContractOperation } from './contract';

/**
 * Sample values for the query parameters Prowler's contract documents, one
 * request per value, so that every enum member (each sort key, each sparse
 * field, each provider type) is tried on its own.
 */
export interface ParameterProbe {
  parameter: string;
  value: string;
}

const DAY = '2026-12-01';
const INSTANT = '2026-12-01T10:00:00Z';

/** Date filters the contract types as plain strings (findings' `inserted_at__gte`...). */
const DATE_PARAMETER = /^filter\[\w*(_at|date_joined)(__(gte|lte|date))?\]$/;

export function sampleValues(schema: any, name = ''): string[] {
  if (!schema) return ['x'];
  if (DATE_PARAMETER.test(name) && schema.type === 'string' && !schema.format && !schema.enum) return [DAY, INSTANT];
  if (Array.isArray(schema.enum)) return schema.enum.filter((v: unknown) => v !== null && v !== '').map(String);
  if (schema.type === 'array') {
    const items = schema.items ?? {};
    if (Array.isArray(items.enum)) return items.enum.filter((v: unknown) => v !== null && v !== '').map(String);
    const [one] = sampleValues(items);
    const two = items.format === 'uuid' ? randomUUID() : one;
    return [`${one},${two}`];
  }
  if (schema.format === 'uuid') return [randomUUID()];
  if (schema.format === 'date') return [DAY];
  if (schema.format === 'date-time') return [INSTANT, DAY];
  if (schema.type === 'boolean') return ['true', 'false'];
  if (schema.type === 'integer' || schema.type === 'number') return ['1'];
  return ['x'];
}

/** Each documented query parameter of an operation with each of its sample values. */
export function parameterProbes(operation: ContractOperation): ParameterProbe[] {
  return operation.parameters
    .filter((p) => p.in === 'query')
    .flatMap((p) => sampleValues(p.schema, p.name).map((value) => ({ parameter: p.name, value })));
}

/** The parameters an operation requires, with a value each (sent along with every probe). */
export function requiredQuery(operation: ContractOperation, except: string): string[] {
  // Prowler's FindingFilter wants a date filter on every action of the findings view, this one too,
  // although the generated contract marks it required on /findings alone.
  const required = (p: ContractOperation['parameters'][number]) =>
    p.required || (operation.path === '/api/v1/findings/findings_services_regions' && p.name === 'filter[inserted_at]');
  return operation.parameters
    .filter((p) => p.in === 'query' && required(p) && p.name !== except)
    .map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(sampleValues(p.schema, p.name)[0])}`);
}

/** `/a/{x}/b` and `/a/{y}/b` are the same route. */
export function routeShape(path: string): string {
  return path.replace(/\{[^}]+\}/g, '{}').replace(/\/+$/, '');
}
