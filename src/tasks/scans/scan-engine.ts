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
  /** The provider's decrypted secret, or null when it has none; read only when the engine asks. */
  credentials(): Promise<Record<string, unknown> | null>;
}

/** What an engine leaves for ingestion: a Prowler JSON-OCSF file, plain or gzipped. */
export interface ScanOutput {
  ocsfFile: string;
  /** Removes what the run left on disk; called once ingestion is over, whatever its outcome. */
  dispose(): Promise<void>;
}

/**
 * The port a manual or scheduled scan runs through. An engine only produces
 * the OCSF output; the scan's findings are stored from it the way an import
 * stores an uploaded file, so every engine ends in the same ingestion.
 */
export interface ScanEngine {
  run(target: ScanTarget, run: ScanEngineRun): Promise<ScanOutput>;
}

export const SCAN_ENGINE = Symbol('SCAN_ENGINE');

/** What runs when no engine is configured: the scan fails and says why, rather than pretending to have scanned. */
export class UnconfiguredScanEngine implements ScanEngine {
  async run(): Promise<ScanOutput> {
    throw new JobOutcomeError(
      'engine_unavailable',
      'No scan engine is configured (PROWLER_BIN is not set), so this deployment cannot scan; the scan did not run.',
    );
  }
}
