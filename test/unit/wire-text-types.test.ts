import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { types as pgTypes } from 'pg';
import { isoInstant, RENDERED_TEXT_TYPES, uuidList } from '../../src/database/wire-text-types';

/** What the answer showed before: pg's Date, formatted by JSON. */
const viaDate = (text: string) => (pgTypes.getTypeParser(1184, 'text')(text) as Date).toISOString();

describe('rendered text types', () => {
  it('rewrites a UTC timestamptz to the instant a Date would have rendered', () => {
    for (const text of [
      '2026-12-02 15:25:40.691234+00',
      '2026-12-02 15:25:40.691999+00',
      '2026-12-02 15:25:40.6+00',
      '2026-12-02 15:25:40.05+00',
      '2026-12-02 15:25:40+00',
      '1999-01-01 00:00:00.000001+00',
    ]) {
      assert.equal(isoInstant(text), viaDate(text), text);
    }
  });

  it('reads other zones through the standard parser, and infinity as JSON renders it', () => {
    assert.equal(isoInstant('2026-12-02 16:25:40.691234+01'), '2026-12-02T15:25:40.691Z');
    assert.equal(isoInstant('2026-12-02 10:55:40.5-04:30'), '2026-12-02T15:25:40.500Z');
    assert.equal(isoInstant('infinity'), null);
    assert.equal(isoInstant('-infinity'), null);
  });

  it('splits a uuid list, keeping NULL elements as null', () => {
    assert.deepEqual(uuidList('{}'), []);
    assert.deepEqual(uuidList('{01a2375c-87d3-7fe4-ad76-2930c1c254ed}'), ['01a2375c-87d3-7fe4-ad76-2930c1c254ed']);
    assert.deepEqual(uuidList('{01a2375c-87d3-7fe4-ad76-2930c1c254ed,NULL,01a2375c-87d3-7fc0-b4c7-22cbb2391455}'), [
      '01a2375c-87d3-7fe4-ad76-2930c1c254ed',
      null,
      '01a2375c-87d3-7fc0-b4c7-22cbb2391455',
    ]);
    const generic = pgTypes.getTypeParser(2951 as never, 'text');
    const text = '{01a2375c-87d3-7fe4-ad76-2930c1c254ed,01a2375c-87d3-7fc0-b4c7-22cbb2391455}';
    assert.deepEqual(uuidList(text), generic(text));
  });

  it('leaves every other type to pg', () => {
    assert.equal(RENDERED_TEXT_TYPES.getTypeParser(1184, 'text'), isoInstant);
    assert.equal(RENDERED_TEXT_TYPES.getTypeParser(20, 'text'), pgTypes.getTypeParser(20, 'text'));
    assert.equal(RENDERED_TEXT_TYPES.getTypeParser(1184, 'binary'), pgTypes.getTypeParser(1184, 'binary'));
  });
});
