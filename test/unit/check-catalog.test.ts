import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checksDirectory } from '../../src/config/compliance-directory';
import { checkFactsOf, loadChecks } from '../../src/findings/checks/check-catalog';

/** Writes a check definition where Prowler's package keeps one. */
function writeDefinition(root: string, provider: string, service: string, checkId: string, text: string): string {
  const folder = join(root, provider, 'services', service, checkId);
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `${checkId}.metadata.json`);
  writeFileSync(path, text);
  return path;
}

describe('check catalog', () => {
  it('reads each definition at its place, with categories and resource group, and skips what is not one, naming the file', () => {
    const root = mkdtempSync(join(tmpdir(), 'cspm-checks-'));
    try {
      writeDefinition(root, 'aws', 'ec2', 'ec2_instance_public_ip', JSON.stringify({
        Provider: 'aws', CheckID: 'ec2_instance_public_ip', ResourceGroup: 'compute', Categories: ['Internet-Exposed', 'internet-exposed', ''],
      }));
      writeDefinition(root, 'gcp', 'iam', 'iam_sa_keys', JSON.stringify({ CheckID: 'iam_sa_keys', Categories: [] }));
      const broken = writeDefinition(root, 'aws', 's3', 's3_broken', '{ not json');
      const nameless = writeDefinition(root, 'aws', 's3', 's3_nameless', JSON.stringify({ ResourceGroup: 'storage' }));
      // Other files of a check folder (its code) are not definitions.
      writeFileSync(join(root, 'aws', 'services', 'ec2', 'ec2_instance_public_ip', 'ec2_instance_public_ip.py'), 'class Check: pass');

      const { byId, skipped } = loadChecks(root);
      assert.deepEqual([...byId.keys()].sort(), ['ec2_instance_public_ip', 'iam_sa_keys']);
      assert.deepEqual(byId.get('ec2_instance_public_ip'), { categories: ['internet-exposed'], resourceGroup: 'compute' });
      assert.deepEqual(byId.get('iam_sa_keys'), { categories: [], resourceGroup: null });
      assert.deepEqual(skipped.map((s) => s.file).sort(), [broken, nameless].sort());
      assert.match(skipped.find((s) => s.file === nameless)!.reason, /CheckID/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a definition that is not an object', () => {
    assert.throws(() => checkFactsOf('[]'), /not a JSON object/);
    assert.throws(() => checkFactsOf('{"CheckID": 7}'), /CheckID/);
  });

  it('finds the providers folder beside the compliance folder, and insists an explicit folder exists', () => {
    const root = mkdtempSync(join(tmpdir(), 'cspm-prowler-'));
    try {
      mkdirSync(join(root, 'compliance'));
      assert.equal(checksDirectory('', join(root, 'compliance')), null);
      mkdirSync(join(root, 'providers'));
      assert.equal(checksDirectory('', join(root, 'compliance')), join(root, 'providers'));
      assert.equal(checksDirectory('', null), null);
      assert.equal(checksDirectory(join(root, 'providers'), null), join(root, 'providers'));
      assert.throws(() => checksDirectory(join(root, 'missing'), null), /PROWLER_CHECKS_DIR/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
