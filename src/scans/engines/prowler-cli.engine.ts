import { spawn } from 'node:child_process';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JobOutcomeError } from '../../tasks/jobs/job-errors';
import { ScanEngine, ScanEngineRun, ScanOutput, ScanTarget } from '../../tasks/scans/scan-engine';
import { ScanSpool } from '../spool/scan-spool';
import { credentialEnvironment, credentialFiles, prowlerArguments } from './prowler-invocation';

/** How long Prowler gets to stop after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5000;
/** The end of stderr kept for a failure's reason. */
const STDERR_TAIL_BYTES = 2000;
/** The environment Prowler inherits from the worker; nothing else of it, so no secret of ours leaks in. */
const INHERITED_VARIABLES = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ', 'PYTHONPATH', 'VIRTUAL_ENV'];

/**
 * Runs the Prowler CLI (PROWLER_BIN) for the scan's provider and answers its
 * JSON-OCSF output. The provider's decrypted credentials reach Prowler only
 * through its environment: never on its command line (which any local user
 * can read), never in a log. The job's AbortSignal stops it.
 */
export class ProwlerCliEngine implements ScanEngine {
  constructor(
    private readonly executable: string,
    private readonly spool: ScanSpool,
  ) {}

  async run(target: ScanTarget, run: ScanEngineRun): Promise<ScanOutput> {
    const directory = await this.spool.runDirectory(target.scanId);
    const dispose = () => rm(directory, { recursive: true, force: true });
    try {
      const credentials = await run.credentials();
      // Without a secret Prowler would fall back on whatever identity the worker itself has: never scan with that.
      if (!credentials) {
        throw new JobOutcomeError('secret_missing', 'The provider has no secret, so there are no credentials to scan it with; add one first.');
      }
      const secrets = credentialEnvironment(target.provider, credentials);
      const environment: NodeJS.ProcessEnv = { ...inherited(), ...secrets };
      const files = credentialFiles(target.provider, credentials);
      for (const credential of files) {
        // The run directory is the worker's own (0700), and goes with the run.
        const path = join(directory, credential.file);
        await writeFile(path, credential.content, { mode: 0o600 });
        environment[credential.variable] = path;
      }
      await run.progress(1);
      const secretValues = [...Object.values(secrets), ...files.map((credential) => credential.content)];
      await this.spawnProwler(prowlerArguments(target, directory, credentials), environment, secretValues, run.signal);
      return { ocsfFile: await outputFile(directory), dispose };
    } catch (error) {
      await dispose();
      throw error;
    }
  }

  private spawnProwler(args: string[], environment: NodeJS.ProcessEnv, secretValues: string[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      // Its own process group, so a stop reaches whatever it started too (a wrapper script's Python, say).
      const child = spawn(this.executable, args, { env: environment, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
      });
      let killTimer: NodeJS.Timeout | undefined;
      const signalGroup = (name: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, name);
        } catch {
          // The group is already gone.
        }
      };
      const stop = () => {
        signalGroup('SIGTERM');
        killTimer = setTimeout(() => signalGroup('SIGKILL'), STOP_GRACE_MS);
      };
      signal.addEventListener('abort', stop, { once: true });
      child.once('error', (error) => {
        signal.removeEventListener('abort', stop);
        reject(new JobOutcomeError('engine_failed', `Prowler could not be started (${(error as NodeJS.ErrnoException).code ?? error.message}).`));
      });
      child.once('close', (code, exitSignal) => {
        signal.removeEventListener('abort', stop);
        clearTimeout(killTimer);
        if (signal.aborted) return reject(signal.reason);
        if (code === 0) return resolve();
        const ending = exitSignal ? `was stopped by ${exitSignal}` : `exited with code ${code}`;
        const said = redact(stderr.trim(), secretValues);
        reject(new JobOutcomeError('engine_failed', `Prowler ${ending}${said ? `: ${said}` : ''}`));
      });
    });
  }
}

function inherited(): NodeJS.ProcessEnv {
  return Object.fromEntries(INHERITED_VARIABLES.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]]));
}

/** Prowler names its output `<output filename>.ocsf.json`. */
async function outputFile(directory: string): Promise<string> {
  const found = (await readdir(directory, { recursive: true })).filter((name) => name.endsWith('.ocsf.json')).sort();
  if (found.length === 0) throw new JobOutcomeError('engine_failed', 'Prowler finished without writing a JSON-OCSF output file.');
  return join(directory, found[0]);
}

/** A failure message may quote what Prowler printed; a credential it echoed must not reach the task result. */
function redact(text: string, secretValues: readonly string[]): string {
  return secretValues.filter((value) => value.length >= 4).reduce((result, value) => result.split(value).join('[redacted]'), text);
}
