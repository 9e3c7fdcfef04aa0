import { Logger } from '@nestjs/common';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { chown, open, readdir, rm, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import type { OsUser } from '../../config/os-user';
import { JobOutcomeError } from '../../tasks/jobs/job-errors';
import { ScanEngine, ScanEngineRun, ScanOutput, ScanTarget } from '../../tasks/scans/scan-engine';
import { ScanSpool } from '../spool/scan-spool';
import { credentialEnvironment, credentialFiles, PROWLER_OUTPUT_NAME, prowlerArguments } from './prowler-invocation';

/** How long Prowler gets to stop after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5000;
/** The end of stderr kept for the server log when a run fails. */
const STDERR_TAIL_BYTES = 2000;
const logger = new Logger('ProwlerCliEngine');
/** The environment Prowler inherits from the worker; nothing else of it, so no secret of ours leaks in. */
const INHERITED_VARIABLES = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ', 'PYTHONPATH', 'VIRTUAL_ENV'];

/**
 * Runs the Prowler CLI (PROWLER_BIN) for the scan's provider and answers its
 * JSON-OCSF output. The provider's decrypted credentials reach Prowler only
 * through its environment: never on its command line (which any local user
 * can read), never in a log. The job's AbortSignal stops it.
 *
 * With PROWLER_RUN_AS, Prowler runs as that OS user, in a run directory that
 * user owns: it cannot read the worker's environment (/proc/<pid>/environ is
 * readable by the worker's own user only) nor anything else of the worker's
 * that is not shared with every user (README, "What a worker process holds").
 */
export class ProwlerCliEngine implements ScanEngine {
  constructor(
    private readonly executable: string,
    private readonly spool: ScanSpool,
    private readonly runAs: OsUser | null = null,
  ) {}

  async run(target: ScanTarget, run: ScanEngineRun): Promise<ScanOutput> {
    const directory = await this.spool.runDirectory(target.scanId, this.runAs);
    // Under PROWLER_RUN_AS the output is copied out of the directory Prowler's user controls (see reclaimOutput).
    const reclaimed = `${directory}.ocsf.json`;
    const dispose = async () => {
      await rm(directory, { recursive: true, force: true });
      await rm(reclaimed, { force: true });
    };
    try {
      const credentials = await run.credentials();
      // Without a secret Prowler would fall back on whatever identity the worker itself has: never scan with that.
      if (!credentials) {
        throw new JobOutcomeError('secret_missing', 'The provider has no secret, so there are no credentials to scan it with; add one first.');
      }
      const secrets = credentialEnvironment(target.provider, credentials);
      // Another user's home is not ours to use: the run directory is the only place it may write.
      const environment: NodeJS.ProcessEnv = { ...inherited(), ...(this.runAs ? { HOME: directory } : {}), ...secrets };
      const files = credentialFiles(target.provider, credentials);
      for (const credential of files) {
        // The run directory is private to the user Prowler runs as (0700), and goes with the run.
        const path = join(directory, credential.file);
        await writeFile(path, credential.content, { mode: 0o600 });
        if (this.runAs) await chown(path, this.runAs.uid, this.runAs.gid);
        environment[credential.variable] = path;
      }
      await run.progress(1);
      const secretValues = [...Object.values(secrets), ...files.map((credential) => credential.content)];
      await this.spawnProwler(target.scanId, prowlerArguments(target, directory, credentials), directory, environment, secretValues, run.signal);
      return { ocsfFile: this.runAs ? await reclaimOutput(directory, reclaimed) : await outputFile(directory), dispose };
    } catch (error) {
      await dispose();
      throw error;
    }
  }

  private spawnProwler(
    scanId: string,
    args: string[],
    directory: string,
    environment: NodeJS.ProcessEnv,
    secretValues: string[],
    signal: AbortSignal,
  ): Promise<void> {
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      // Its own process group, so a stop reaches whatever it started too (a wrapper script's Python, say).
      // Under PROWLER_RUN_AS, Node drops the supplementary groups along with the user and group.
      const child = spawn(this.executable, args, {
        env: environment,
        cwd: directory,
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
        ...(this.runAs ? { uid: this.runAs.uid, gid: this.runAs.gid } : {}),
      });
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
        // What Prowler printed may quote the tenant's cloud, its credentials or the worker's host: it goes
        // to the server log, and the task result (which tenant users read) only names where to find it.
        const reference = randomUUID();
        const ending = exitSignal ? `was stopped by ${exitSignal}` : `exited with code ${code}`;
        logger.error(`Prowler ${ending} (reference ${reference}, scan ${scanId}); the end of its stderr: ${redact(stderr.trim(), secretValues)}`);
        reject(new JobOutcomeError('engine_failed', `The scan engine failed. An administrator can find its output in the server log under reference ${reference}.`));
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

/**
 * The output of a run under another user, copied to a file of the worker's
 * own. That user owns the run directory and anything it left running may
 * still change it: the output could be a symbolic or swapped link to a file
 * only the worker may read (another tenant's upload, say). So only the one
 * name Prowler writes is taken, opened without following a link, checked to
 * be a regular file, and copied through that open descriptor.
 */
async function reclaimOutput(directory: string, target: string): Promise<string> {
  const path = join(directory, `${PROWLER_OUTPUT_NAME}.ocsf.json`);
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new JobOutcomeError('engine_failed', 'Prowler finished without writing a JSON-OCSF output file.');
    throw new JobOutcomeError('engine_failed', `Prowler's output is not a regular file (${error.code ?? 'unreadable'}).`);
  });
  try {
    if (!(await handle.stat()).isFile()) throw new JobOutcomeError('engine_failed', "Prowler's output is not a regular file.");
    await pipeline(handle.createReadStream({ autoClose: false }), createWriteStream(target, { flags: 'wx', mode: 0o600 }));
    return target;
  } finally {
    await handle.close();
  }
}

/** What Prowler printed may echo a credential; the server log must not hold it either. */
function redact(text: string, secretValues: readonly string[]): string {
  return secretValues.filter((value) => value.length >= 4).reduce((result, value) => result.split(value).join('[redacted]'), text);
}
