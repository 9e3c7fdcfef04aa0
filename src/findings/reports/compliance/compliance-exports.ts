import { join } from 'node:path';
import { FrameworkDefinition, RequirementDefinition } from '../../compliance/frameworks/framework-definition';
import { csvCell } from '../report-csv';
import { forEachFindingPage, ReportFinding, ReportScan, ReportSource } from '../report-findings';
import { BufferedFile } from './buffered-file';
import { complianceFiles } from './compliance-report-files';

const SEPARATOR = ';';

/** One export being written: its file, and per check the requirements a finding of it is a row for. */
interface Export {
  framework: FrameworkDefinition;
  format: 'csv' | 'ocsf';
  file: BufferedFile;
  byCheck: Map<string, RequirementDefinition[]>;
  attributeKeys: string[];
  /** OCSF is one JSON array: a comma goes before every record but the first. */
  records: number;
}

/**
 * Writes, in one pass over the scan's findings, a CSV per framework (every
 * finding of a requirement's checks is a row of that requirement; a
 * requirement without checks is one MANUAL row) and an OCSF Compliance
 * Finding array per framework that offers one. `only` limits the files to
 * one framework and format (a report built for one caller).
 */
export async function writeComplianceExports(
  folder: string,
  scan: ReportScan,
  frameworks: readonly FrameworkDefinition[],
  source: ReportSource,
  only?: { complianceId: string; format: 'csv' | 'ocsf' },
): Promise<number> {
  const exports: Export[] = [];
  try {
    for (const framework of frameworks) {
      for (const format of ['csv', 'ocsf'] as const) {
        if (format === 'ocsf' && !framework.ocsfExport) continue;
        if (only && (only.complianceId !== framework.complianceId || only.format !== format)) continue;
        const byCheck = new Map<string, RequirementDefinition[]>();
        for (const requirement of framework.requirements) {
          for (const check of requirement.checks) byCheck.set(check, [...(byCheck.get(check) ?? []), requirement]);
        }
        const file = await BufferedFile.create(join(folder, format === 'csv' ? complianceFiles.csv(framework) : complianceFiles.ocsf(framework)));
        const entry: Export = { framework, format, file, byCheck, attributeKeys: csvAttributeKeys(framework), records: 0 };
        exports.push(entry);
        await file.write(format === 'csv' ? csvHeader(entry) : '[');
      }
    }
    const assessed = new Date().toISOString();
    const findings = await forEachFindingPage(source, scan.id, async (page) => {
      for (const entry of exports) {
        for (const finding of page) {
          for (const requirement of entry.byCheck.get(finding.check_id) ?? []) await writeRecord(entry, scan, requirement, finding, assessed);
        }
      }
    });
    for (const entry of exports) {
      for (const requirement of entry.framework.requirements) if (requirement.checks.length === 0) await writeRecord(entry, scan, requirement, null, assessed);
      if (entry.format === 'ocsf') await entry.file.write(']');
    }
    return findings;
  } finally {
    for (const entry of exports) await entry.file.close();
  }
}

async function writeRecord(entry: Export, scan: ReportScan, requirement: RequirementDefinition, finding: ReportFinding | null, assessed: string): Promise<void> {
  if (entry.format === 'csv') return entry.file.write(csvRow(entry, scan, requirement, finding, assessed));
  const record = ocsfRecord(entry.framework, scan, requirement, finding, assessed);
  await entry.file.write(`${entry.records++ === 0 ? '' : ','}\n${JSON.stringify(record)}`);
}

/** The scalar attributes a framework's CSV shows as columns (those its metadata marks for CSV, when it says). */
function csvAttributeKeys(framework: FrameworkDefinition): string[] {
  const keys = new Set<string>();
  for (const requirement of framework.requirements) {
    for (const attributes of requirement.attributes) {
      for (const [key, value] of Object.entries(attributes)) {
        if (typeof value === 'object' && value !== null) continue;
        if (framework.exportedAttributes.csv && !framework.exportedAttributes.csv.has(key)) continue;
        keys.add(key);
      }
    }
  }
  return [...keys];
}

/** Prowler's compliance CSV columns, upper case as its outputs write them. */
function csvHeader(entry: Export): string {
  const columns = [
    'PROVIDER', 'DESCRIPTION', 'ACCOUNTID', 'REGION', 'ASSESSMENTDATE', 'REQUIREMENTS_ID', 'REQUIREMENTS_DESCRIPTION',
    ...entry.attributeKeys.map((key) => `REQUIREMENTS_ATTRIBUTES_${key.toUpperCase()}`),
    'STATUS', 'STATUSEXTENDED', 'RESOURCEID', 'CHECKID', 'MUTED', 'FRAMEWORK', 'NAME',
  ];
  return `${columns.join(SEPARATOR)}\r\n`;
}

function csvRow(entry: Export, scan: ReportScan, requirement: RequirementDefinition, finding: ReportFinding | null, assessed: string): string {
  const attributes = requirement.attributes[0] ?? {};
  const cells = [
    scan.provider_type,
    entry.framework.description,
    scan.provider_uid,
    finding?.region ?? '',
    assessed,
    requirement.id,
    requirement.description,
    ...entry.attributeKeys.map((key) => (attributes[key] === undefined || attributes[key] === null ? '' : String(attributes[key]))),
    finding ? finding.status : 'MANUAL',
    finding ? (finding.status_extended ?? '') : 'Manual check',
    finding?.resource_uid ?? '',
    finding?.check_id ?? 'manual',
    finding ? String(finding.muted) : 'false',
    entry.framework.framework,
    entry.framework.name,
  ];
  return `${cells.map(csvCell).join(SEPARATOR)}\r\n`;
}

const SEVERITY_IDS: Record<string, number> = { informational: 1, low: 2, medium: 3, high: 4, critical: 5 };

/** An OCSF 1.x Compliance Finding (class 2003): one finding against one requirement, or a requirement left to a manual check. */
function ocsfRecord(framework: FrameworkDefinition, scan: ReportScan, requirement: RequirementDefinition, finding: ReportFinding | null, assessed: string) {
  const status = finding ? (finding.muted ? 'MUTED' : finding.status) : 'MANUAL';
  const complianceStatus = status === 'PASS' ? { status: 'Pass', status_id: 1 } : status === 'FAIL' ? { status: 'Fail', status_id: 3 } : { status: 'Unknown', status_id: 0 };
  const time = finding ? new Date(finding.inserted_at) : new Date(assessed);
  const standard = framework.version ? `${framework.framework}-${framework.version}` : framework.framework;
  return {
    activity_id: 1,
    activity_name: 'Create',
    category_uid: 2,
    category_name: 'Findings',
    class_uid: 2003,
    class_name: 'Compliance Finding',
    type_uid: 200301,
    type_name: 'Compliance Finding: Create',
    severity_id: finding ? (SEVERITY_IDS[finding.severity] ?? 99) : 1,
    severity: finding ? capitalise(finding.severity) : 'Informational',
    status_id: 1,
    status: 'New',
    status_code: status,
    status_detail: finding?.status_extended ?? 'Manual check',
    message: finding?.status_extended ?? requirement.description,
    time: Math.floor(time.getTime() / 1000),
    time_dt: time.toISOString(),
    finding_info: {
      uid: finding ? `${finding.uid}-${requirement.id}` : `${scan.id}-${framework.complianceId}-${requirement.id}`,
      title: finding?.check_title ?? requirement.name,
      desc: requirement.description,
      created_time: Math.floor(time.getTime() / 1000),
      created_time_dt: time.toISOString(),
    },
    compliance: { standards: [standard], requirements: [requirement.id], control: requirement.name, desc: requirement.description, ...complianceStatus },
    check: finding ? { uid: finding.check_id, name: finding.check_title } : undefined,
    resources: finding ? [{ uid: finding.resource_uid, region: finding.region, type: finding.resource_type, group: { name: finding.service } }] : [],
    cloud: { provider: scan.provider_type, region: finding?.region ?? '', account: { uid: scan.provider_uid, name: scan.provider_alias ?? '' } },
    metadata: { product: { name: 'Prowler', uid: 'prowler', vendor_name: 'Prowler' }, event_code: finding?.check_id ?? 'manual', profiles: ['cloud'], version: '1.5.0' },
    unmapped: { requirement_attributes: ocsfAttributes(framework, requirement) },
  };
}

function ocsfAttributes(framework: FrameworkDefinition, requirement: RequirementDefinition): Record<string, unknown> {
  const allowed = framework.exportedAttributes.ocsf;
  const snake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').toLowerCase();
  return Object.fromEntries(Object.entries(requirement.attributes[0] ?? {}).filter(([key]) => !allowed || allowed.has(key)).map(([key, value]) => [snake(key), value]));
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
