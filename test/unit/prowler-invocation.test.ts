import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { credentialEnvironment, credentialFiles, prowlerArguments } from '../../src/scans/engines/prowler-invocation';
import { loadConfig } from '../../src/config/app-config';

const target = { scanId: 's', providerId: 'p', provider: 'aws', uid: '123456789012' };

describe('Prowler invocation', () => {
  it('turns a secret into the environment variables Prowler reads', () => {
    assert.deepEqual(credentialEnvironment('aws', { aws_access_key_id: 'AKIA1', aws_secret_access_key: 's3cr3t', aws_session_token: 'tok' }), {
      AWS_ACCESS_KEY_ID: 'AKIA1',
      AWS_SECRET_ACCESS_KEY: 's3cr3t',
      AWS_SESSION_TOKEN: 'tok',
    });
    assert.deepEqual(credentialEnvironment('azure', { client_id: 'c', tenant_id: 't', client_secret: 'x' }), {
      AZURE_CLIENT_ID: 'c',
      AZURE_TENANT_ID: 't',
      AZURE_CLIENT_SECRET: 'x',
    });
    assert.deepEqual(credentialEnvironment('gcp', { client_id: 'id', client_secret: 's', refresh_token: 'r' }), {
      GOOGLE_CLIENT_ID: 'id',
      GOOGLE_CLIENT_SECRET: 's',
      GOOGLE_REFRESH_TOKEN: 'r',
    });
    assert.deepEqual(credentialEnvironment('mongodbatlas', { atlas_public_key: 'a' }), { MONGODBATLAS_ATLAS_PUBLIC_KEY: 'a' });
  });

  it('hands a service account key and a kubeconfig over as files named by the standard variables, not as variables', () => {
    const key = { type: 'service_account', private_key: 'k' };
    assert.deepEqual(credentialFiles('gcp', { service_account_key: key }), [
      { file: 'gcp-service-account.json', variable: 'GOOGLE_APPLICATION_CREDENTIALS', content: JSON.stringify(key) },
    ]);
    assert.deepEqual(credentialEnvironment('gcp', { service_account_key: key }), {});
    assert.deepEqual(credentialFiles('kubernetes', { kubeconfig_content: 'apiVersion: v1' }), [
      { file: 'kubeconfig', variable: 'KUBECONFIG', content: 'apiVersion: v1' },
    ]);
    assert.deepEqual(credentialFiles('aws', { aws_access_key_id: 'AKIA1' }), []);
  });

  it('puts nothing secret on the command line and asks for JSON-OCSF where the engine reads it', () => {
    const args = prowlerArguments(target, '/spool/runs/x');
    assert.equal(args[0], 'aws');
    assert.deepEqual(args.slice(args.indexOf('--output-formats'), args.indexOf('--output-formats') + 2), ['--output-formats', 'json-ocsf']);
    assert.ok(args.includes('/spool/runs/x'));
    assert.ok(args.includes('--ignore-exit-code-3'));
    assert.ok(prowlerArguments({ ...target, provider: 'azure' }, '/d').includes('--sp-env-auth'));
  });

  it('passes an AWS role to assume as the flags Prowler reads, keeping the keys that assume it in the environment', () => {
    const role = {
      role_arn: 'arn:aws:iam::123456789012:role/ProwlerScan',
      external_id: 'tenant-external-id',
      role_session_name: 'cspm-scan',
      session_duration: 3600,
      aws_access_key_id: 'AKIAEXAMPLE',
      aws_secret_access_key: 'secret-key-value',
    };
    const args = prowlerArguments(target, '/d', role);
    const flag = (name: string) => args[args.indexOf(name) + 1];
    assert.equal(flag('--role'), role.role_arn);
    assert.equal(flag('--external-id'), role.external_id);
    assert.equal(flag('--role-session-name'), 'cspm-scan');
    assert.equal(flag('--session-duration'), '3600');
    assert.ok(!args.some((arg) => arg.includes('secret-key-value') || arg.includes('AKIAEXAMPLE')));
    assert.deepEqual(credentialEnvironment('aws', role), { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret-key-value' });
    assert.ok(!prowlerArguments(target, '/d', { aws_access_key_id: 'AKIAEXAMPLE' }).includes('--role'));
  });
});

describe('scans configuration', () => {
  const base = { DATABASE_URL: 'postgres://a@localhost/db', DATABASE_ADMIN_URL: 'postgres://b@localhost/db' };

  it('defaults to a 1 GiB import limit, a spool under the temporary directory and no engine', () => {
    const { scans } = loadConfig(base);
    assert.equal(scans.importMaxBytes, 1024 ** 3);
    assert.match(scans.spoolDir, /cspm-scan-spool$/);
    assert.equal(scans.prowlerBin, '');
  });

  it('refuses a limit below 1 KiB, a non-integer one, and a relative spool directory', () => {
    assert.throws(() => loadConfig({ ...base, SCAN_IMPORT_MAX_BYTES: '10' }), /SCAN_IMPORT_MAX_BYTES/);
    assert.throws(() => loadConfig({ ...base, SCAN_IMPORT_MAX_BYTES: 'lots' }), /SCAN_IMPORT_MAX_BYTES/);
    assert.throws(() => loadConfig({ ...base, SCAN_SPOOL_DIR: 'spool' }), /SCAN_SPOOL_DIR/);
  });
});
