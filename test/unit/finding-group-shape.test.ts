import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CONTRACT_PATH } from '../support/contract';
import { FINDING_GROUP_ATTRIBUTES, FINDING_GROUP_LIST, FINDING_GROUP_RESOURCES, findingGroupResource } from '../../src/findings/finding-groups/finding-group.resources';
import { GROUP_COUNT_COLUMNS, GROUP_SUMMARY_COLUMNS } from '../../src/findings/finding-groups/finding-group-counts';

/** The finding group's declared attributes, counts and sorts against the contract's FindingGroup. */
describe('finding group shape', () => {
  const contract = parse(readFileSync(CONTRACT_PATH, 'utf8')) as any;
  const schema = contract.components.schemas.FindingGroup.properties.attributes;

  it('renders every attribute of the contract and nothing else', () => {
    const expected = Object.keys(schema.properties).filter((name) => name !== 'id').sort();
    assert.deepEqual([...FINDING_GROUP_ATTRIBUTES].sort(), expected);
    const row = Object.fromEntries(GROUP_SUMMARY_COLUMNS.map((c) => [c, 0]));
    const rendered = findingGroupResource.attributes({ ...row, check_id: 'c', check_title: '', severity: 'low', status: 'PASS', muted: false, impacted_providers: [] } as any);
    assert.deepEqual(Object.keys(rendered).sort(), expected);
    assert.equal(rendered.check_title, null, 'an empty title renders as null');
  });

  it('computes every integer count the contract has, each with a distinct condition', () => {
    const counts = Object.entries(schema.properties as Record<string, { type: string }>)
      .filter(([name, property]) => property.type === 'integer' && name.endsWith('_count'))
      .map(([name]) => name)
      .sort();
    assert.deepEqual(GROUP_COUNT_COLUMNS.map(([column]) => column).sort(), counts);
    assert.equal(new Set(GROUP_COUNT_COLUMNS.map(([, condition]) => condition)).size, GROUP_COUNT_COLUMNS.length);
    // Unmuted and muted halves of each status and delta bucket.
    for (const [column, condition] of GROUP_COUNT_COLUMNS) {
      if (column === 'muted_count') continue;
      assert.equal(condition.includes('NOT f.muted'), !column.includes('_muted_'), column);
    }
  });

  it('accepts every sort key the contract lists for the lists and for the resources', () => {
    const sorts = (path: string) => contract.paths[path].get.parameters.find((p: any) => p.name === 'sort').schema.items.enum.filter((s: string) => !s.startsWith('-'));
    for (const key of sorts('/api/v1/finding-groups')) assert.ok(FINDING_GROUP_LIST.sorts!.includes(key), key);
    for (const key of sorts('/api/v1/finding-groups/{id}/resources')) assert.ok(FINDING_GROUP_RESOURCES.sorts!.includes(key), key);
  });
});
