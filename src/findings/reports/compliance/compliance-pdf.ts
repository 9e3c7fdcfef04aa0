import PDFDocument from 'pdfkit';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { RequirementStatus } from '../../compliance/compliance-framework';
import { FrameworkDefinition } from '../../compliance/frameworks/framework-definition';
import { EvaluatedRequirement } from '../../compliance/frameworks/requirement-evaluation';
import { ThreatScoreMetrics } from '../../threatscore/threatscore-metrics';
import { ReportScan } from '../report-findings';
import { PdfReportKind, pdfTitle } from './compliance-report-files';

/** What one PDF shows: the framework, how each requirement came out, and for ThreatScore its scores. */
export interface PdfContent {
  kind: PdfReportKind;
  framework: FrameworkDefinition;
  scan: ReportScan;
  requirements: EvaluatedRequirement[];
  threatScore: ThreatScoreMetrics | null;
}

const COLOURS = { PASS: '#2e7d32', FAIL: '#c62828', MANUAL: '#757575', ink: '#1f2933', muted: '#52606d', rule: '#cbd2d9', band: '#f0f4f8', brand: '#1d3557' };
const PAGE = { margin: 48, width: 595.28, height: 841.89 };
const CONTENT_WIDTH = PAGE.width - 2 * PAGE.margin;

/**
 * A compliance report as a PDF (pdfkit): a cover with the scan and the
 * totals, a summary chart (requirements by status, then the pass rate of
 * each section, or ThreatScore's section scores), and the requirement
 * tables grouped by section.
 */
export async function writeCompliancePdf(path: string, content: PdfContent): Promise<void> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: PAGE.margin,
    info: { Title: `${pdfTitle(content.kind)} report`, Subject: content.framework.name, Creator: 'cspm-api' },
  });
  const out = createWriteStream(path);
  doc.pipe(out);
  cover(doc, content);
  doc.addPage();
  summary(doc, content);
  doc.addPage();
  requirementTables(doc, content);
  doc.end();
  await finished(out);
}

/** The standard fonts encode WinAnsi only: other characters would print as noise, so they become '?'. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e\xa0-\xff\n]/g, '?');
}

function counts(requirements: readonly EvaluatedRequirement[]): Record<RequirementStatus, number> {
  const result: Record<RequirementStatus, number> = { PASS: 0, FAIL: 0, MANUAL: 0 };
  for (const r of requirements) result[r.status]++;
  return result;
}

function cover(doc: PDFKit.PDFDocument, { kind, framework, scan, requirements, threatScore }: PdfContent): void {
  doc.rect(0, 0, PAGE.width, 220).fill(COLOURS.brand);
  doc.fillColor('#ffffff').font('Helvetica-Bold').fontSize(28).text(`${pdfTitle(kind)} report`, PAGE.margin, 70, { width: CONTENT_WIDTH });
  doc.font('Helvetica').fontSize(13).text(printable(framework.name || framework.framework), PAGE.margin, 120, { width: CONTENT_WIDTH });
  let y = 250;
  const line = (label: string, value: string) => {
    doc.fillColor(COLOURS.muted).font('Helvetica').fontSize(10).text(label, PAGE.margin, y, { width: 140 });
    doc.fillColor(COLOURS.ink).font('Helvetica-Bold').fontSize(10).text(printable(value), PAGE.margin + 140, y, { width: CONTENT_WIDTH - 140 });
    y += 20;
  };
  line('Provider', scan.provider_type);
  line('Account', scan.provider_uid + (scan.provider_alias ? ` (${scan.provider_alias})` : ''));
  line('Scan', scan.name ? `${scan.name} (${scan.id})` : scan.id);
  line('Scan started', scan.started_at ? new Date(scan.started_at).toISOString() : '-');
  line('Framework', `${framework.framework}${framework.version ? ` ${framework.version}` : ''} (${framework.complianceId})`);
  line('Generated', new Date().toISOString());

  y += 30;
  const boxes: Array<[string, string, string]> = [];
  const c = counts(requirements);
  if (threatScore) boxes.push(['ThreatScore', `${threatScore.overall_score.toFixed(2)}%`, COLOURS.brand]);
  boxes.push(['Passed', String(c.PASS), COLOURS.PASS], ['Failed', String(c.FAIL), COLOURS.FAIL], ['Manual', String(c.MANUAL), COLOURS.MANUAL]);
  const width = (CONTENT_WIDTH - (boxes.length - 1) * 12) / boxes.length;
  boxes.forEach(([label, value, colour], i) => {
    const x = PAGE.margin + i * (width + 12);
    doc.roundedRect(x, y, width, 90, 6).fill(colour);
    doc.fillColor('#ffffff').font('Helvetica-Bold').fontSize(26).text(value, x, y + 18, { width, align: 'center' });
    doc.font('Helvetica').fontSize(11).text(label, x, y + 58, { width, align: 'center' });
  });
  y += 120;
  if (framework.description) {
    doc.fillColor(COLOURS.ink).font('Helvetica').fontSize(10).text(printable(framework.description), PAGE.margin, y, { width: CONTENT_WIDTH, height: PAGE.height - y - PAGE.margin, ellipsis: true });
  }
}

/** The attribute a framework's requirements are grouped by: ENS by its `Marco`, the others by `Section`. */
function sectionOf(requirement: EvaluatedRequirement, kind: PdfReportKind): string {
  const attributes = requirement.requirement.attributes[0] ?? {};
  const value = kind === 'ens' ? attributes.Marco : attributes.Section;
  return typeof value === 'string' && value !== '' ? value : 'Other';
}

function bySection(content: PdfContent): Map<string, EvaluatedRequirement[]> {
  const sections = new Map<string, EvaluatedRequirement[]>();
  for (const r of content.requirements) {
    const section = sectionOf(r, content.kind);
    sections.set(section, [...(sections.get(section) ?? []), r]);
  }
  return sections;
}

function summary(doc: PDFKit.PDFDocument, content: PdfContent): void {
  doc.fillColor(COLOURS.ink).font('Helvetica-Bold').fontSize(18).text('Summary', PAGE.margin, PAGE.margin);
  // Requirements by status, as one stacked bar.
  const c = counts(content.requirements);
  const total = Math.max(1, c.PASS + c.FAIL + c.MANUAL);
  let x = PAGE.margin;
  const y = PAGE.margin + 40;
  for (const status of ['PASS', 'FAIL', 'MANUAL'] as const) {
    const width = (c[status] / total) * CONTENT_WIDTH;
    if (width > 0) doc.rect(x, y, width, 28).fill(COLOURS[status]);
    x += width;
  }
  doc.fillColor(COLOURS.muted).font('Helvetica').fontSize(9)
    .text(`Requirements: ${c.PASS} passed, ${c.FAIL} failed, ${c.MANUAL} manual (${total} in all)`, PAGE.margin, y + 34);

  // One bar per section: its score (ThreatScore) or the share of its decided requirements that pass.
  const title = content.threatScore ? 'ThreatScore by section (%)' : 'Passed requirements by section (% of those with checks)';
  doc.fillColor(COLOURS.ink).font('Helvetica-Bold').fontSize(12).text(title, PAGE.margin, y + 70);
  const rows: Array<[string, number | null]> = [];
  if (content.threatScore) {
    for (const [section, score] of Object.entries(content.threatScore.section_scores)) rows.push([section, score]);
  } else {
    for (const [section, requirements] of bySection(content)) {
      const decided = requirements.filter((r) => r.status !== 'MANUAL');
      rows.push([section, decided.length === 0 ? null : (decided.filter((r) => r.status === 'PASS').length / decided.length) * 100]);
    }
  }
  const labelWidth = 200;
  const barWidth = CONTENT_WIDTH - labelWidth - 50;
  let rowY = y + 95;
  for (const [section, value] of rows) {
    if (rowY > PAGE.height - PAGE.margin - 20) break;
    doc.fillColor(COLOURS.ink).font('Helvetica').fontSize(8).text(printable(section), PAGE.margin, rowY + 2, { width: labelWidth - 8, height: 14, ellipsis: true });
    doc.rect(PAGE.margin + labelWidth, rowY, barWidth, 12).fill(COLOURS.band);
    if (value !== null) {
      const colour = value >= 80 ? COLOURS.PASS : value >= 50 ? '#f9a825' : COLOURS.FAIL;
      doc.rect(PAGE.margin + labelWidth, rowY, (Math.max(0, Math.min(100, value)) / 100) * barWidth, 12).fill(colour);
    }
    doc.fillColor(COLOURS.ink).fontSize(8).text(value === null ? 'manual' : `${value.toFixed(1)}%`, PAGE.margin + labelWidth + barWidth + 6, rowY + 2, { width: 44 });
    rowY += 18;
  }
}

function requirementTables(doc: PDFKit.PDFDocument, content: PdfContent): void {
  const columns = [
    { title: 'Requirement', width: 70 },
    { title: 'Description', width: 255 },
    { title: 'Status', width: 55 },
    { title: 'Findings passed', width: 60 },
    { title: 'Checks', width: CONTENT_WIDTH - 440 },
  ];
  const bottom = PAGE.height - PAGE.margin;
  let y = PAGE.margin;
  const header = () => {
    let x = PAGE.margin;
    doc.rect(PAGE.margin, y, CONTENT_WIDTH, 16).fill(COLOURS.brand);
    for (const column of columns) {
      doc.fillColor('#ffffff').font('Helvetica-Bold').fontSize(8).text(column.title, x + 3, y + 4, { width: column.width - 6, lineBreak: false });
      x += column.width;
    }
    y += 16;
  };
  doc.fillColor(COLOURS.ink).font('Helvetica-Bold').fontSize(18).text('Requirements', PAGE.margin, y);
  y += 30;
  for (const [section, requirements] of bySection(content)) {
    if (y > bottom - 60) {
      doc.addPage();
      y = PAGE.margin;
    }
    doc.fillColor(COLOURS.ink).font('Helvetica-Bold').fontSize(11).text(printable(section), PAGE.margin, y, { width: CONTENT_WIDTH });
    y = doc.y + 4;
    header();
    requirements.forEach((r, index) => {
      const description = printable(r.requirement.description || r.requirement.name).slice(0, 400);
      const cells = [
        printable(r.requirement.id),
        description,
        r.status,
        r.totalFindings === 0 ? '-' : `${r.passedFindings}/${r.totalFindings}`,
        String(r.requirement.checks.length),
      ];
      doc.font('Helvetica').fontSize(7.5);
      const height = Math.max(14, ...cells.map((cell, i) => doc.heightOfString(cell, { width: columns[i].width - 6 }) + 6));
      if (y + height > bottom) {
        doc.addPage();
        y = PAGE.margin;
        header();
      }
      if (index % 2 === 1) doc.rect(PAGE.margin, y, CONTENT_WIDTH, height).fill(COLOURS.band);
      let x = PAGE.margin;
      cells.forEach((cell, i) => {
        const colour = i === 2 ? COLOURS[r.status] : COLOURS.ink;
        doc.fillColor(colour).font(i === 2 ? 'Helvetica-Bold' : 'Helvetica').fontSize(7.5).text(cell, x + 3, y + 3, { width: columns[i].width - 6 });
        x += columns[i].width;
      });
      y += height;
    });
    y += 14;
  }
}
