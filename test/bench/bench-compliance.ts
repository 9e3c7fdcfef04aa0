import { Client } from 'pg';
import { rlsTransaction } from '../../src/database/rls-transaction';
import { rows } from '../../src/database/sql';
import { aggregateScanCompliance } from '../../src/findings/compliance/compliance-aggregation';
import { aggregateScan } from '../../src/findings/overviews/scan-aggregation';
import { loadFrameworks } from '../../src/findings/compliance/frameworks/framework-catalog';
import { CheckRegionCounts, checkTotals, evaluateFramework } from '../../src/findings/compliance/frameworks/requirement-evaluation';
import { threatScoreFramework } from '../../src/findings/threatscore/threatscore-metrics';
import { writeThreatScoreSnapshot } from '../../src/findings/threatscore/threatscore-snapshot-writer';
import { createBenchEnvironment } from '../support/bench-database';
import { appDataSource, ingestRecords, insertCompletedScan, insertProviderRow, insertTenant } from '../support/bench-ingestion';
import { generateRecords } from '../support/finding-generator';
import { checksOf, frameworksFor, PROWLER_COMPLIANCE_DIR, withRealChecks } from '../support/prowler-compliance';
import { median } from '../support/median';

/**
 * `node dist/test/bench/bench-compliance.js` (after `npm run build`): the
 * follow-ups of a scan against the ingestion of the same scan, round by
 * round on emptied tables: the overview job's aggregation (summaries,
 * finding groups, category and resource-group figures, resource counts)
 * and the compliance job (check and mapping figures and the ThreatScore
 * snapshot, with every framework of Prowler's folder loaded); and what a
 * read costs: evaluating every AWS framework from the scan's check figures.
 */
const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROUND_TABLES = [
  'findings', 'resource_finding_links', 'resources', 'resource_tags', 'resource_tag_links', 'finding_latest', 'finding_counts', 'finding_versions',
  'scan_ingestions', 'scan_check_summaries', 'compliance_requirement_summaries', 'threatscore_snapshots', 'scan_summaries', 'scan_overview_summaries',
  'finding_group_summaries', 'scan_check_fact_summaries', 'scan_resource_group_summaries',
];

async function main(): Promise<void> {
  const loadStart = process.hrtime.bigint();
  const catalog = loadFrameworks(PROWLER_COMPLIANCE_DIR);
  const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;
  const frameworks = catalog.byProvider.get('aws')!;
  const threatScore = threatScoreFramework(frameworks)!;
  const bench = await createBenchEnvironment('compliance');
  const admin = new Client({ connectionString: bench.env.DATABASE_ADMIN_URL });
  await admin.connect();
  const app = await appDataSource(bench.env.DATABASE_URL, 1);
  try {
    const tenantId = await insertTenant(admin, 'bench compliance');
    const providerId = await insertProviderRow(admin, tenantId, '123456789012');
    const records = withRealChecks(generateRecords({ providerKey: 'bench', count: FINDINGS }), checksOf(frameworksFor('aws')));
    const seconds = { ingest: [] as number[], overview: [] as number[], compliance: [] as number[], read_query_ms: [] as number[], evaluate_ms: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      await admin.query(`TRUNCATE ${ROUND_TABLES.join(', ')}`);
      await admin.query('VACUUM ANALYZE');
      const startedAt = new Date(Date.now() - (ROUNDS - round) * 60_000);
      const scanId = await insertCompletedScan(admin, tenantId, providerId, startedAt);
      let start = process.hrtime.bigint();
      const written = await ingestRecords(app, { tenantId, providerId, scanId, scanStartedAt: startedAt }, records);
      seconds.ingest.push(Number(process.hrtime.bigint() - start) / 1e9);
      if (written !== FINDINGS) throw new Error(`ingested ${written} of ${FINDINGS}`);
      await admin.query('ANALYZE findings');

      start = process.hrtime.bigint();
      await rlsTransaction(app, tenantId, (m) => aggregateScan(m, scanId));
      seconds.overview.push(Number(process.hrtime.bigint() - start) / 1e9);

      start = process.hrtime.bigint();
      await rlsTransaction(app, tenantId, async (m) => {
        const written = await aggregateScanCompliance(m, scanId);
        await writeThreatScoreSnapshot(m, scanId, providerId, threatScore);
        if (written.check_rows === 0 || written.requirement_rows === 0) throw new Error('no compliance figures written');
      });
      seconds.compliance.push(Number(process.hrtime.bigint() - start) / 1e9);

      // A read without a region filter: the scan's figures per check, then every framework evaluated in memory.
      start = process.hrtime.bigint();
      const counts = await rlsTransaction(app, tenantId, (m) =>
        rows<CheckRegionCounts>(m, `SELECT check_id, '' AS region, sum(pass)::int AS pass, sum(fail)::int AS fail FROM scan_check_summaries WHERE scan_id = $1 GROUP BY 1`, [scanId]),
      );
      const queried = process.hrtime.bigint();
      const totals = checkTotals(counts);
      let requirements = 0;
      for (const framework of frameworks.values()) requirements += evaluateFramework(framework, totals).length;
      seconds.read_query_ms.push(Number(queried - start) / 1e6);
      seconds.evaluate_ms.push(Number(process.hrtime.bigint() - queried) / 1e6);
      if (requirements === 0) throw new Error('no requirement evaluated');
    }
    const ratio = (taken: (round: number) => number) => Number(median(seconds.ingest.map((ingest, round) => taken(round) / ingest)).toFixed(3));
    process.stdout.write(
      JSON.stringify({
        bench: 'compliance',
        findings: FINDINGS,
        rounds: ROUNDS,
        frameworks_loaded: [...catalog.byProvider.values()].reduce((sum, f) => sum + f.size, 0),
        aws_frameworks: frameworks.size,
        load_ms: Math.round(loadMs),
        ingest_s: Number(median(seconds.ingest).toFixed(2)),
        overview_s: Number(median(seconds.overview).toFixed(3)),
        compliance_s: Number(median(seconds.compliance).toFixed(3)),
        overview_over_ingest: ratio((round) => seconds.overview[round]),
        compliance_over_ingest: ratio((round) => seconds.compliance[round]),
        follow_ups_over_ingest: ratio((round) => seconds.overview[round] + seconds.compliance[round]),
        read_query_ms: Number(median(seconds.read_query_ms).toFixed(1)),
        evaluate_all_aws_frameworks_ms: Number(median(seconds.evaluate_ms).toFixed(1)),
        seconds,
      }) + '\n',
    );
  } finally {
    await app.destroy();
    await admin.end();
    await bench.cleanup();
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
