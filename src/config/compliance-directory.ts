import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/**
 * The folder of Prowler's compliance framework definitions: the one named by
 * PROWLER_COMPLIANCE_DIR (which must exist), else the `compliance/` folder of
 * the Python package PROWLER_BIN belongs to, else none. Prowler installs as
 * `<prefix>/bin/prowler` beside `<prefix>/lib/python3.X/site-packages/prowler/`
 * (a virtualenv, pipx, a container); a source checkout runs `prowler.py`
 * beside the `prowler/` package.
 */
export function complianceDirectory(explicit: string, prowlerBin: string): string | null {
  if (explicit.trim() !== '') {
    const dir = resolve(explicit);
    if (!isDirectory(dir)) throw new Error('PROWLER_COMPLIANCE_DIR must name an existing directory');
    return dir;
  }
  if (prowlerBin.trim() === '') return null;
  return besideProwlerBin(prowlerBin);
}

/**
 * The folder of Prowler's check definitions (`<provider>/services/<service>/
 * <check>/<check>.metadata.json`): the one named by PROWLER_CHECKS_DIR (which
 * must exist), else the `providers/` folder beside the compliance folder, as
 * Prowler's package holds both, else none.
 */
export function checksDirectory(explicit: string, complianceDir: string | null): string | null {
  if (explicit.trim() !== '') {
    const dir = resolve(explicit);
    if (!isDirectory(dir)) throw new Error('PROWLER_CHECKS_DIR must name an existing directory');
    return dir;
  }
  if (!complianceDir) return null;
  const beside = join(dirname(complianceDir), 'providers');
  return isDirectory(beside) ? beside : null;
}

function besideProwlerBin(prowlerBin: string): string | null {
  let binary: string;
  try {
    // A bare name would be looked up on PATH by the engine; only a path can be followed to its package.
    if (!isAbsolute(prowlerBin)) return null;
    binary = realpathSync(prowlerBin);
  } catch {
    return null;
  }
  const binDir = dirname(binary);
  const candidates = [join(binDir, 'prowler', 'compliance')];
  for (const prefix of [dirname(binDir), dirname(dirname(binDir))]) {
    const lib = join(prefix, 'lib');
    if (!isDirectory(lib)) continue;
    for (const python of readdirSync(lib).filter((name) => name.startsWith('python')).sort().reverse()) {
      for (const packages of ['site-packages', 'dist-packages']) candidates.push(join(lib, python, packages, 'prowler', 'compliance'));
    }
  }
  return candidates.find(isDirectory) ?? null;
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
