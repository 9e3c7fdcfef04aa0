import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/app-config';
import { loadFrameworks } from '../../src/findings/compliance/frameworks/framework-catalog';
import { evaluateRequirement } from '../../src/findings/compliance/frameworks/requirement-evaluation';
import { combineSnapshots } from '../../src/findings/threatscore/threatscore-combination';
import { computeThreatScore } from '../../src/findings/threatscore/threatscore-metrics';
import { ThreatScoreRow } from '../../src/findings/threatscore/threatscore.resource';
import { PROWLER_COMPLIANCE_DIR } from '../support/prowler-compliance';

const BASE = { DATABASE_URL: 'postgres://app@127.0.0.1/db', DATABASE_ADMIN_URL: 'postgres://admin@127.0.0.1/db' };

describe('compliance framework definitions', () => {
  it('PROWLER_COMPLIANCE_DIR must exist; unset, the folder beside PROWLER_BIN’s package is found, else none', () => {
    assert.throws(() => loadConfig({ ...BASE, PROWLER_COMPLIANCE_DIR: '/nowhere/compliance' }), /PROWLER_COMPLIANCE_DIR/);
    assert.equal(loadConfig({ ...BASE }).complianceDir, null);
    const prefix = mkdtempSync(join(tmpdir(), 'prowler-venv-'));
    try {
      const compliance = join(prefix, 'lib', 'python3.12', 'site-packages', 'prowler', 'compliance');
      mkdirSync(compliance, { recursive: true });
      mkdirSync(join(prefix, 'bin'));
      writeFileSync(join(prefix, 'bin', 'prowler'), '#!/bin/sh\n');
      assert.equal(loadConfig({ ...BASE, PROWLER_BIN: join(prefix, 'bin', 'prowler') }).complianceDir, compliance);
      assert.equal(loadConfig({ ...BASE, PROWLER_BIN: 'prowler' }).complianceDir, null, 'a bare name leads to no package');
      assert.equal(loadConfig({ ...BASE, PROWLER_BIN: join(prefix, 'bin', 'prowler'), PROWLER_COMPLIANCE_DIR: PROWLER_COMPLIANCE_DIR }).complianceDir, PROWLER_COMPLIANCE_DIR);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });

  it('a malformed file is skipped and named, the others load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'frameworks-'));
    try {
      mkdirSync(join(dir, 'aws'));
      writeFileSync(join(dir, 'aws', 'broken_aws.json'), '{"Framework": "X", "Requirements": [');
      writeFileSync(join(dir, 'aws', 'nothing_aws.json'), '{"Framework": "X"}');
      writeFileSync(join(dir, 'aws', 'badchecks_aws.json'), '{"Framework": "X", "Provider": "AWS", "Requirements": [{"Id": "1", "Checks": "iam"}]}');
      symlinkSync(join(PROWLER_COMPLIANCE_DIR, 'aws', 'cis_2.0_aws.json'), join(dir, 'aws', 'cis_2.0_aws.json'));
      symlinkSync(join(PROWLER_COMPLIANCE_DIR, 'csa_ccm_4.0.json'), join(dir, 'csa_ccm_4.0.json'));
      const catalog = loadFrameworks(dir);
      assert.deepEqual(catalog.skipped.map((s) => s.file).sort(), ['badchecks_aws.json', 'broken_aws.json', 'nothing_aws.json'].map((f) => join(dir, 'aws', f)));
      assert.match(catalog.skipped.find((s) => s.file.endsWith('badchecks_aws.json'))!.reason, /Checks/);
      assert.deepEqual([...catalog.byProvider.get('aws')!.keys()].sort(), ['cis_2.0_aws', 'csa_ccm_4.0']);
      assert.ok(catalog.byProvider.get('azure')!.has('csa_ccm_4.0'), 'a multi-provider file applies to every provider type it has checks for');
      const cis = catalog.byProvider.get('aws')!.get('cis_2.0_aws')!;
      assert.equal(cis.requirements.length, 64);
      assert.equal(cis.requirements[0].description, 'Maintain current contact details');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the real folder loads without a skipped file', () => {
    const catalog = loadFrameworks(PROWLER_COMPLIANCE_DIR);
    assert.deepEqual(catalog.skipped, []);
    assert.ok(catalog.byProvider.get('aws')!.size > 40);
  });

  it('a requirement: manual without checks, failing with a failed finding, passing otherwise (also without findings)', () => {
    const requirement = (checks: string[]) => ({ id: 'r', name: 'r', description: '', checks, attributes: [] });
    const totals = new Map([['a', { pass: 3, fail: 0 }], ['b', { pass: 1, fail: 2 }]]);
    assert.equal(evaluateRequirement(requirement([]), totals).status, 'MANUAL');
    assert.equal(evaluateRequirement(requirement(['a', 'b']), totals).status, 'FAIL');
    assert.equal(evaluateRequirement(requirement(['a']), totals).status, 'PASS');
    assert.deepEqual(evaluateRequirement(requirement(['z']), totals), { requirement: requirement(['z']), status: 'PASS', passedFindings: 0, totalFindings: 0 });
  });

  it('ThreatScore weighs each requirement by findings, weight and level of risk', () => {
    const framework = {
      complianceId: 'prowler_threatscore_aws', framework: 'ProwlerThreatScore', name: '', version: '1.0', description: '', providerType: 'aws',
      universal: false, ocsfExport: false, exportedAttributes: { csv: null, ocsf: null },
      requirements: [
        { id: '1', name: '1', description: '', checks: ['a'], attributes: [{ Section: 'IAM', LevelOfRisk: 5, Weight: 1000, Title: 'A' }] },
        { id: '2', name: '2', description: '', checks: ['b'], attributes: [{ Section: 'Logging', LevelOfRisk: 1, Weight: 10 }] },
        { id: '3', name: '3', description: '', checks: [], attributes: [{ Section: 'Logging', LevelOfRisk: 3, Weight: 100 }] },
      ],
    };
    const metrics = computeThreatScore(framework, new Map([['a', { pass: 1, fail: 3 }], ['b', { pass: 2, fail: 0 }]]));
    // 1: rate 0.25, weight 4 × 1000 × 2.25 = 9000; 2: rate 1, weight 2 × 10 × 1.25 = 25.
    assert.equal(metrics.overall_score, Math.round(((0.25 * 9000 + 25) / 9025) * 10000) / 100);
    assert.deepEqual(metrics.section_scores, { IAM: 25, Logging: 100 });
    assert.deepEqual([metrics.passed_requirements, metrics.failed_requirements, metrics.manual_requirements], [1, 1, 1]);
    assert.deepEqual([metrics.total_findings, metrics.passed_findings, metrics.failed_findings], [6, 3, 3]);
    assert.deepEqual(metrics.critical_requirements.map((r) => r.requirement_id), ['1']);
    assert.equal(computeThreatScore(framework, new Map()).overall_score, 100, 'nothing found scores 100');
  });

  it('several snapshots combine weighted by their findings, deltas over those that have one', () => {
    const snapshot = (score: number, delta: number | null, findings: number, sections: Record<string, number>): ThreatScoreRow => ({
      id: 'x', inserted_at: new Date(), scan_id: 's', provider_id: 'p', compliance_id: 'c', overall_score: score, score_delta: delta,
      section_scores: sections, critical_requirements: [], total_requirements: 10, passed_requirements: 5, failed_requirements: 5,
      manual_requirements: 0, total_findings: findings, passed_findings: 0, failed_findings: findings,
    });
    const combined = combineSnapshots([snapshot(80, 10, 30, { IAM: 50 }), snapshot(40, null, 10, { IAM: 100, Logging: 20 })]);
    assert.equal(combined.overall_score, 70);
    assert.equal(combined.score_delta, 10);
    assert.deepEqual(combined.section_scores, { IAM: '62.50', Logging: '20.00' });
    assert.equal(combined.total_findings, 40);
    assert.equal(combined.provider_id, null);
  });
});
