import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuery } from '../../src/common/jsonapi/query-parser';
import { DATE_FILTER, QuerySpec } from '../../src/common/jsonapi/query-spec';
import { ApiError } from '../../src/common/errors/api-error';

const SPEC: QuerySpec = {
  filters: {
    status: { type: 'enum', operators: ['eq', 'in'], values: ['PASS', 'FAIL'] },
    inserted_at: { type: 'datetime', operators: ['gte', 'lte'] },
    provider: { type: 'uuid', operators: ['eq', 'in'] },
    muted: { type: 'boolean', operators: ['eq'] },
    name: { type: 'string', operators: ['eq', 'icontains'] },
  },
  sorts: ['inserted_at', 'status'],
  defaultSort: '-inserted_at',
  includes: ['scan'],
  fields: { findings: ['status', 'uid'] },
  allowCursor: true,
  allowDisablePaging: true,
};

function refused(raw: Record<string, unknown>, parameter: string): void {
  assert.throws(() => parseQuery(raw, SPEC), (error: unknown) => error instanceof ApiError && error.status === 400 && error.source?.parameter === parameter);
}

describe('query parsing', () => {
  it('parses filters, operators and types', () => {
    const parsed = parseQuery(
      { 'filter[status__in]': 'PASS,FAIL', 'filter[inserted_at__gte]': '2026-01-01', 'filter[muted]': 'false', 'filter[name__icontains]': 'prod', 'filter[provider]': 'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA' },
      SPEC,
    );
    assert.deepEqual(parsed.filters.find((f) => f.field === 'status'), { field: 'status', operator: 'in', value: ['PASS', 'FAIL'] });
    assert.deepEqual(parsed.filters.find((f) => f.field === 'inserted_at')?.value, new Date('2026-01-01T00:00:00Z'));
    assert.equal(parsed.filters.find((f) => f.field === 'muted')?.value, false);
    assert.equal(parsed.filters.find((f) => f.field === 'provider')?.value, 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
  });

  it('defaults: page 1 of 10, the endpoint’s default sort', () => {
    const parsed = parseQuery({}, SPEC);
    assert.deepEqual(parsed.page, { mode: 'number', number: 1, size: 10 });
    assert.deepEqual(parsed.sort, [{ field: 'inserted_at', descending: true }]);
  });

  it('pages: number and size within bounds, cursor mode, disabled paging', () => {
    assert.deepEqual(parseQuery({ 'page[number]': '3', 'page[size]': '100' }, SPEC).page, { mode: 'number', number: 3, size: 100 });
    assert.deepEqual(parseQuery({ 'page[cursor]': 'abc_-1', 'page[size]': '5' }, SPEC).page, { mode: 'cursor', cursor: 'abc_-1', size: 5 });
    assert.deepEqual(parseQuery({ 'page[cursor]': '' }, SPEC).page, { mode: 'cursor', cursor: null, size: 10 });
    assert.deepEqual(parseQuery({ 'page[disable]': 'true' }, SPEC).page, { mode: 'all' });
  });

  it('refuses anything not declared, naming the parameter', () => {
    refused({ foo: '1' }, 'foo');
    refused({ 'filter[other]': '1' }, 'filter[other]');
    refused({ 'filter[status__gte]': 'PASS' }, 'filter[status__gte]');
    refused({ 'filter[status]': 'MAYBE' }, 'filter[status]');
    refused({ 'filter[provider]': 'not-a-uuid' }, 'filter[provider]');
    refused({ 'filter[muted]': 'yes' }, 'filter[muted]');
    refused({ 'filter[inserted_at__gte]': 'yesterday' }, 'filter[inserted_at__gte]');
    refused({ sort: 'uid' }, 'sort');
    refused({ include: 'resources' }, 'include');
    refused({ 'fields[findings]': 'secret' }, 'fields[findings]');
    refused({ 'fields[scans]': 'name' }, 'fields[scans]');
    refused({ 'page[size]': '101' }, 'page[size]');
    refused({ 'page[size]': '0' }, 'page[size]');
    refused({ 'page[number]': '0' }, 'page[number]');
    refused({ 'page[number]': '2', 'page[cursor]': 'x' }, 'page[number]');
    refused({ 'page[cursor]': 'has spaces' }, 'page[cursor]');
    refused({ 'filter[status]': ['PASS', 'FAIL'] }, 'filter[status]');
    refused({ 'filter[name]': 'a\u0000b' }, 'filter[name]');
  });

  it('refuses cursor and disabled paging where the endpoint does not offer them', () => {
    assert.throws(() => parseQuery({ 'page[cursor]': 'x' }, {}), ApiError);
    assert.throws(() => parseQuery({ 'page[disable]': 'true' }, {}), ApiError);
  });

  it("reads Prowler's date lookups: a day is the whole UTC day, an instant bound stays as given", () => {
    const spec: QuerySpec = { filters: { at: DATE_FILTER, name: { type: 'string', operators: ['eq', 'iexact'] } } };
    const one = (key: string, value: string) => parseQuery({ [key]: value }, spec).filters[0];
    const day = new Date('2026-12-01T00:00:00Z');
    const next = new Date('2026-12-02T00:00:00Z');
    assert.deepEqual(one('filter[at]', '2026-12-01'), { field: 'at', operator: 'date', value: day });
    assert.deepEqual(one('filter[at__date]', '2026-12-01'), { field: 'at', operator: 'date', value: day });
    assert.deepEqual(one('filter[at__exact]', '2026-12-01T17:30:00Z'), { field: 'at', operator: 'date', value: day });
    assert.deepEqual(one('filter[at__gte]', '2026-12-01'), { field: 'at', operator: 'gte', value: day });
    assert.deepEqual(one('filter[at__lte]', '2026-12-01'), { field: 'at', operator: 'lt', value: next });
    assert.deepEqual(one('filter[at__gt]', '2026-12-01'), { field: 'at', operator: 'gte', value: next });
    assert.deepEqual(one('filter[at__lt]', '2026-12-01'), { field: 'at', operator: 'lt', value: day });
    assert.deepEqual(one('filter[at__lte]', '2026-12-01T10:00:00Z'), { field: 'at', operator: 'lte', value: new Date('2026-12-01T10:00:00Z') });
    assert.deepEqual(one('filter[name__iexact]', 'Prod'), { field: 'name', operator: 'iexact', value: 'Prod' });
    assert.deepEqual(one('filter[name__exact]', 'Prod'), { field: 'name', operator: 'eq', value: 'Prod' });
    assert.throws(() => parseQuery({ 'filter[at__date]': '2026-02-30x' }, spec), ApiError);
    assert.throws(() => parseQuery({ 'filter[name__date]': '2026-12-01' }, spec), ApiError);
  });

  it('takes any text in __in where Prowler does, and a plain-named list', () => {
    const spec: QuerySpec = {
      filters: {
        status: { type: 'enum', operators: ['eq', 'in'], values: ['PASS'], anyValueIn: true },
        resources: { type: 'uuid', operators: ['eq', 'in'], list: true },
      },
    };
    assert.deepEqual(parseQuery({ 'filter[status__in]': 'PASS,nope' }, spec).filters[0].value, ['PASS', 'nope']);
    assert.throws(() => parseQuery({ 'filter[status]': 'nope' }, spec), ApiError);
    const ids = ['aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'];
    assert.deepEqual(parseQuery({ 'filter[resources]': ids.join(',') }, spec).filters[0], { field: 'resources', operator: 'in', value: ids });
    assert.throws(() => parseQuery({ 'filter[resources]': `${ids[0]},x` }, spec), ApiError);
  });
});
