import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { frameworkName, requirementStatus } from '../../src/findings/compliance/compliance-framework';
import { csvCell } from '../../src/findings/reports/report-csv';
import { escapeHtml } from '../../src/findings/reports/report-html';
import { severityChartSvg } from '../../src/findings/reports/severity-chart';

describe('compliance names and statuses', () => {
  it('derives Prowler-style compliance ids, frameworks and versions from mapping keys', () => {
    assert.deepEqual(frameworkName('CIS-2.0', 'aws'), { complianceId: 'cis_2.0_aws', framework: 'CIS', version: '2.0' });
    assert.deepEqual(frameworkName('ISO27001-2013', 'azure'), { complianceId: 'iso27001_2013_azure', framework: 'ISO27001', version: '2013' });
    assert.deepEqual(frameworkName('ENS-RD2022', 'aws'), { complianceId: 'ens_rd2022_aws', framework: 'ENS', version: 'RD2022' });
    assert.deepEqual(frameworkName('KISA-ISMS-P-2023-korean', 'aws'), {
      complianceId: 'kisa_isms_p_2023_korean_aws',
      framework: 'KISA-ISMS-P-2023-korean',
      version: '',
    });
    assert.deepEqual(frameworkName('SOC2', 'gcp'), { complianceId: 'soc2_gcp', framework: 'SOC2', version: '' });
  });

  it('a requirement fails on any unmuted failure, passes on passes alone, else needs a manual check', () => {
    assert.equal(requirementStatus({ pass: 9, fail: 1, manual: 0, muted: 0, total: 10 }), 'FAIL');
    assert.equal(requirementStatus({ pass: 2, fail: 0, manual: 1, muted: 3, total: 6 }), 'PASS');
    assert.equal(requirementStatus({ pass: 0, fail: 0, manual: 0, muted: 4, total: 4 }), 'MANUAL');
  });
});

describe('report formats', () => {
  it('quotes CSV cells that hold separators, quotes or line breaks, and defuses formulas', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a;b'), '"a;b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
  });

  it('escapes HTML and draws one bar per severity', () => {
    assert.equal(escapeHtml(`<img src=x onerror="a('b')">&`), '&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;');
    const svg = severityChartSvg(new Map([['critical', 2], ['low', 8]]));
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal((svg.match(/<rect /g) ?? []).length, 5);
    assert.ok(svg.includes('<title>low: 8</title>') && svg.includes('<title>high: 0</title>'));
  });
});
