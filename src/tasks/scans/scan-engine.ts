import { JobOutcomeError } from '../jobs/job-errors';

export interface ScanTarget {
  scanId: string;
  providerId: string;
  provider: string;
  uid: string;
}

export interface ScanEngineRun {
  signal: AbortSignal;
  progress(percent: number): Promise<void>;
}

export interface ScanSummary {
  unique_resource_count: number;
}

/** The port a scan runs through; the scans feature binds a real engine (the Prowler CLI) to SCAN_ENGINE. */
export interface ScanEngine {
  run(target: ScanTarget, run: ScanEngineRun): Promise<ScanSummary>;
}

export const SCAN_ENGINE = Symbol('SCAN_ENGINE');

/** What runs when no engine is configured: the scan fails and says why, rather than pretending to have scanned. */
export class UnconfiguredScanEngine implements ScanEngine {
  async run(): Promise<ScanSummary> {
    throw new JobOutcomeError(
      'engine_unavailable',
      'No scan engine is configured (PROWLER_BIN is not set), so this deployment cannot scan; the scan did not run.',
    );
  }
}
