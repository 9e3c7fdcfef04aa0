import { ProviderFrameworks } from '../../compliance/frameworks/framework-catalog';
import { FrameworkDefinition } from '../../compliance/frameworks/framework-definition';

/** The PDF reports Prowler's API serves per scan (`/scans/{id}/<kind>`). */
export const PDF_REPORT_KINDS = ['cis', 'csa', 'ens', 'nis2', 'threatscore'] as const;
export type PdfReportKind = (typeof PDF_REPORT_KINDS)[number];

const PDF_TITLES: Record<PdfReportKind, string> = {
  cis: 'CIS Benchmark',
  csa: 'CSA Cloud Controls Matrix',
  ens: 'ENS RD2022',
  nis2: 'NIS2',
  threatscore: 'Prowler ThreatScore',
};

export function pdfTitle(kind: PdfReportKind): string {
  return PDF_TITLES[kind];
}

/**
 * The framework a PDF kind reports on for a provider type: CIS at its highest
 * version (as Prowler picks it), CSA CCM, ENS, NIS2 and ThreatScore as
 * loaded; null when the provider type has none.
 */
export function pdfFramework(kind: PdfReportKind, frameworks: ProviderFrameworks | null): FrameworkDefinition | null {
  if (!frameworks) return null;
  const all = [...frameworks.values()];
  const prefix = { cis: 'cis_', csa: 'csa_ccm_', ens: 'ens_', nis2: 'nis2_', threatscore: 'prowler_threatscore_' }[kind];
  const candidates = all.filter((f) => f.complianceId.startsWith(prefix) && (kind !== 'cis' || /^cis_\d/.test(f.complianceId)));
  if (candidates.length === 0) return null;
  return candidates.sort((a, b) => compareVersions(b.version, a.version))[0];
}

function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[^0-9]+/).filter(Boolean).map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** File names inside a scan's compliance report folder: from the catalog's ids and the fixed kinds, never from a request alone. */
export const complianceFiles = {
  csv: (framework: FrameworkDefinition) => `${framework.complianceId}.csv`,
  ocsf: (framework: FrameworkDefinition) => `${framework.complianceId}.ocsf.json`,
  pdf: (kind: PdfReportKind) => `${kind}.pdf`,
};
