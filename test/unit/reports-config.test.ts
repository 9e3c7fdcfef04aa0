import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAbsolute, join } from 'node:path';
import { loadConfig } from '../../src/config/app-config';

const BASE = { DATABASE_URL: 'postgres://app@127.0.0.1/db', DATABASE_ADMIN_URL: 'postgres://admin@127.0.0.1/db' };

describe('report settings', () => {
  it('default to .data/reports (made absolute) and 30 days', () => {
    const { reports } = loadConfig({ ...BASE });
    assert.ok(isAbsolute(reports.dir));
    assert.equal(reports.dir, join(process.cwd(), '.data', 'reports'));
    assert.equal(reports.retentionDays, 30);
  });

  it('refuse a retention that is not a whole number of days from 1 to 3650, and an empty folder', () => {
    for (const days of ['0', '-3', '1.5', '4000', 'soon']) {
      assert.throws(() => loadConfig({ ...BASE, REPORT_RETENTION_DAYS: days }), /REPORT_RETENTION_DAYS/, days);
    }
    assert.throws(() => loadConfig({ ...BASE, REPORTS_DIR: ' ' }), /REPORTS_DIR/);
    assert.equal(loadConfig({ ...BASE, REPORTS_DIR: '/srv/reports', REPORT_RETENTION_DAYS: '7' }).reports.retentionDays, 7);
  });
});
