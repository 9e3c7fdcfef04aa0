import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isServerUnavailable } from '../../src/database/replica-router';
import { formatLsn, lsnFromKeyText, lsnKeyText, parseLsn } from '../../src/database/wal-position';

describe('WAL positions', () => {
  it('parses pg_lsn text and writes it back', () => {
    assert.equal(parseLsn('0/0'), 0n);
    assert.equal(parseLsn('16/B374D848'), (0x16n << 32n) | 0xb374d848n);
    assert.equal(formatLsn(parseLsn('16/B374D848')), '16/B374D848');
    assert.throws(() => parseLsn('16-B374D848'), /Not a WAL position/);
    assert.throws(() => parseLsn('123456789/0'), /Not a WAL position/);
  });

  it('orders positions as numbers, and their key text as strings the same way', () => {
    const positions = ['0/FFFFFFFF', '1/0', '0/A', '0/9', 'A/0', '9/FFFFFFFF'].map(parseLsn);
    const byNumber = [...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const byText = [...positions].sort((a, b) => (lsnKeyText(a) < lsnKeyText(b) ? -1 : 1));
    assert.deepEqual(byText, byNumber);
    for (const position of positions) assert.equal(lsnFromKeyText(lsnKeyText(position)), position);
    assert.equal(lsnFromKeyText('not hex at all!!'), null);
  });
});

describe('replica failures that send a read to the primary', () => {
  it('are lost or refused connections, shutdowns and recovery conflicts, not bad queries', () => {
    const error = (code: string | undefined, message = 'x') => Object.assign(new Error(message), { code });
    for (const unavailable of [
      error('ECONNREFUSED'),
      error('57P01', 'terminating connection due to administrator command'),
      error('57P03', 'the database system is starting up'),
      error('08006'),
      error('40001', 'canceling statement due to conflict with recovery'),
      error(undefined, 'Connection terminated unexpectedly'),
      error(undefined, 'timeout exceeded when trying to connect'),
    ]) {
      assert.equal(isServerUnavailable(unavailable), true, unavailable.message);
    }
    for (const queryError of [error('42P01', 'relation does not exist'), error('40001', 'could not serialize access'), error('23505'), new Error('boom')]) {
      assert.equal(isServerUnavailable(queryError), false, queryError.message);
    }
  });
});
