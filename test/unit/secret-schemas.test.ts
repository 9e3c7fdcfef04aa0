import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiErrors } from '../../src/common/errors/api-error';
import { PROVIDER_TYPES, ProviderType } from '../../src/providers/provider-uid-rules';
import { SECRET_TYPES_BY_PROVIDER, SecretType, validateSecret } from '../../src/providers/secret-schemas';
import { GCP_KEY, KUBECONFIG } from '../support/secret-fixtures';

const SECRET = '/data/attributes/secret';

interface Problem {
  status: number;
  code: string;
  pointer: string | undefined;
  detail: string;
}

function problems(provider: ProviderType, secretType: string, secret: unknown): Problem[] {
  try {
    validateSecret(provider, secretType, secret);
  } catch (error) {
    assert.ok(error instanceof ApiErrors, `expected ApiErrors, got ${String(error)}`);
    return error.errors.map((e) => ({ status: e.status, code: e.code, pointer: e.source?.pointer, detail: e.detail }));
  }
  assert.fail('the secret was accepted');
}

const pointers = (found: Problem[]) => found.map((p) => p.pointer).sort();

/** One valid body for every provider and secret type it accepts; several where the provider has alternatives. */
const VALID_SECRETS: Record<ProviderType, Partial<Record<SecretType, Record<string, unknown>[]>>> = {
  aws: {
    static: [
      { aws_access_key_id: 'AKIAEXAMPLE', aws_secret_access_key: 'secret' },
      { aws_access_key_id: 'ASIAEXAMPLE', aws_secret_access_key: 'secret', aws_session_token: 'token' },
    ],
    role: [
      { role_arn: 'arn:aws:iam::123456789012:role/Prowler', external_id: 'tenant-1' },
      {
        role_arn: 'arn:aws:iam::123456789012:role/Prowler',
        external_id: 'tenant-1',
        aws_access_key_id: 'AKIAEXAMPLE',
        aws_secret_access_key: 'secret',
        session_duration: 900,
        role_session_name: 'Test.Session@2',
      },
    ],
  },
  azure: { static: [{ client_id: 'app', client_secret: 'secret', tenant_id: 'tenant' }] },
  gcp: {
    static: [{ client_id: 'id', client_secret: 'secret', refresh_token: 'refresh' }],
    service_account: [{ service_account_key: GCP_KEY }],
  },
  kubernetes: { static: [{ kubeconfig_content: KUBECONFIG }] },
  m365: {
    static: [
      { client_id: 'app', client_secret: 'secret', tenant_id: 'tenant' },
      { client_id: 'app', client_secret: 'secret', tenant_id: 'tenant', user: 'admin@contoso.com', password: 'pw' },
      { client_id: 'app', tenant_id: 'tenant', certificate_content: 'TUlJQ2VqQ0NBZU9n' },
    ],
  },
  github: {
    static: [{ personal_access_token: 'ghp_x' }, { oauth_app_token: 'gho_x' }, { github_app_id: 12345, github_app_key: '-----BEGIN RSA PRIVATE KEY-----' }],
  },
  iac: { static: [{ repository_url: 'https://github.com/org/repo.git' }, { repository_url: 'https://github.com/org/repo', access_token: 't' }] },
  oraclecloud: {
    static: [
      { user: 'ocid1.user.oc1..a', fingerprint: 'aa:bb', tenancy: 'ocid1.tenancy.oc1..a', region: 'us-ashburn-1', key_content: 'LS0t' },
      { user: 'ocid1.user.oc1..a', fingerprint: 'aa:bb', tenancy: 'ocid1.tenancy.oc1..a', region: 'us-ashburn-1', key_content: 'LS0t', pass_phrase: 'pp' },
    ],
  },
  mongodbatlas: { static: [{ atlas_public_key: 'pub', atlas_private_key: 'priv' }] },
  alibabacloud: {
    static: [{ access_key_id: 'LTAI', access_key_secret: 'secret' }, { access_key_id: 'STS.x', access_key_secret: 'secret', security_token: 'tok' }],
    role: [{ role_arn: 'acs:ram::1234567890123456:role/ProwlerRole', access_key_id: 'LTAI', access_key_secret: 'secret', role_session_name: 'S' }],
  },
  cloudflare: { static: [{ api_token: 'token' }, { api_key: 'key', api_email: 'ops@example.com' }] },
  openstack: {
    static: [
      { clouds_yaml_content: 'clouds:\n  prod: {}\n', clouds_yaml_cloud: 'prod' },
      {
        clouds_yaml_content: 'clouds:\n  prod:\n    auth:\n      auth_url: https://keystone.example.com:5000/v3\n      username: u\n      password: p\n    region_name: RegionOne\n',
        clouds_yaml_cloud: 'prod',
      },
    ],
  },
  image: { static: [{ registry_token: 'token' }, { registry_username: 'robot', registry_password: 'pw' }] },
  googleworkspace: {
    static: [{ credentials_content: JSON.stringify(GCP_KEY), delegated_user: 'admin@example.com' }],
    service_account: [{ credentials_content: JSON.stringify(GCP_KEY), delegated_user: 'admin@example.com' }],
  },
  vercel: { static: [{ api_token: 'token' }] },
  okta: {
    static: [
      { okta_client_id: '0oa1', okta_private_key: '-----BEGIN PRIVATE KEY-----' },
      { okta_client_id: '0oa1', okta_private_key: '-----BEGIN PRIVATE KEY-----', okta_scopes: ['okta.users.read'] },
    ],
  },
};

describe('SECRET_TYPES_BY_PROVIDER', () => {
  it('lists at least one secret type for every provider', () => {
    assert.deepEqual(Object.keys(SECRET_TYPES_BY_PROVIDER).sort(), [...PROVIDER_TYPES].sort());
    for (const provider of PROVIDER_TYPES) assert.ok(SECRET_TYPES_BY_PROVIDER[provider].length > 0, provider);
  });

  it('offers role assumption only where the provider supports it, and service accounts only for Google', () => {
    assert.deepEqual(SECRET_TYPES_BY_PROVIDER.aws, ['static', 'role']);
    assert.deepEqual(SECRET_TYPES_BY_PROVIDER.alibabacloud, ['static', 'role']);
    assert.deepEqual(SECRET_TYPES_BY_PROVIDER.gcp, ['static', 'service_account']);
    assert.deepEqual(SECRET_TYPES_BY_PROVIDER.googleworkspace, ['static', 'service_account']);
    assert.deepEqual(SECRET_TYPES_BY_PROVIDER.azure, ['static']);
  });

  it('cannot be altered by callers', () => {
    assert.ok(Object.isFrozen(SECRET_TYPES_BY_PROVIDER));
    assert.ok(Object.isFrozen(SECRET_TYPES_BY_PROVIDER.aws));
  });
});

describe('validateSecret accepts', () => {
  it('has a valid example for every provider and secret type it accepts', () => {
    for (const provider of PROVIDER_TYPES) {
      assert.deepEqual(Object.keys(VALID_SECRETS[provider]), [...SECRET_TYPES_BY_PROVIDER[provider]], provider);
    }
  });

  for (const provider of PROVIDER_TYPES) {
    for (const [secretType, bodies] of Object.entries(VALID_SECRETS[provider])) {
      bodies.forEach((body, index) => {
        it(`${provider} ${secretType} #${index + 1}`, () => {
          assert.deepEqual(validateSecret(provider, secretType, body), body);
        });
      });
    }
  }

  it('returns a copy detached from the request body', () => {
    const body = { service_account_key: { ...GCP_KEY } };
    const cleaned = validateSecret('gcp', 'service_account', body);
    assert.notEqual(cleaned, body);
    assert.notEqual(cleaned.service_account_key, body.service_account_key);
    body.service_account_key.private_key = 'changed';
    assert.deepEqual(cleaned.service_account_key, GCP_KEY);
  });
});

describe('validateSecret refuses', () => {
  it('a missing required field, pointing at it', () => {
    const found = problems('aws', 'static', { aws_access_key_id: 'AKIA' });
    assert.deepEqual(found, [
      {
        status: 400,
        code: 'invalid',
        pointer: `${SECRET}/aws_secret_access_key`,
        detail: "'aws_secret_access_key' is required for AWS static credentials.",
      },
    ]);
  });

  it('an unknown field', () => {
    const found = problems('azure', 'static', { client_id: 'a', client_secret: 's', tenant_id: 't', region: 'eu' });
    assert.deepEqual(pointers(found), [`${SECRET}/region`]);
    assert.match(found[0].detail, /'region' is not a field of azure static secrets/);
  });

  it('a field of another secret type of the same provider', () => {
    const found = problems('aws', 'static', { aws_access_key_id: 'AKIA', aws_secret_access_key: 's', role_arn: 'arn' });
    assert.deepEqual(pointers(found), [`${SECRET}/role_arn`]);
  });

  it('a value of the wrong type', () => {
    for (const wrong of [42, null, true, ['x'], { nested: 'x' }]) {
      const found = problems('kubernetes', 'static', { kubeconfig_content: wrong });
      assert.deepEqual(pointers(found), [`${SECRET}/kubeconfig_content`]);
      assert.match(found[0].detail, /must be a string/);
    }
  });

  it('an empty or blank string', () => {
    for (const blank of ['', '   ', '\n\t']) {
      const found = problems('vercel', 'static', { api_token: blank });
      assert.deepEqual(pointers(found), [`${SECRET}/api_token`]);
      assert.match(found[0].detail, /may not be blank/);
    }
  });

  it('every problem at once, each with its own pointer', () => {
    const found = problems('gcp', 'static', { client_id: '', client_secret: 7, extra: 'x' });
    assert.deepEqual(pointers(found), [`${SECRET}/client_id`, `${SECRET}/client_secret`, `${SECRET}/extra`, `${SECRET}/refresh_token`]);
    assert.ok(found.every((p) => p.status === 400 && p.code === 'invalid'));
  });

  it('a secret that is not an object', () => {
    for (const secret of [null, undefined, 'token', ['a'], 3]) {
      assert.deepEqual(pointers(problems('vercel', 'static', secret)), [SECRET]);
    }
  });

  it('a secret type the provider does not accept, pointing at secret_type', () => {
    const found = problems('azure', 'role', { role_arn: 'arn', external_id: 'x' });
    assert.deepEqual(found.map((p) => [p.code, p.pointer]), [['invalid', '/data/attributes/secret_type']]);
    assert.match(found[0].detail, /'role' is not supported for azure providers; use one of: static/);
  });

  it('a secret type that does not exist', () => {
    for (const secretType of ['bogus', '', 'STATIC', 'toString', '__proto__']) {
      const found = problems('aws', secretType, { aws_access_key_id: 'a', aws_secret_access_key: 's' });
      assert.deepEqual(pointers(found), ['/data/attributes/secret_type'], secretType);
    }
  });

  it('role assumption settings outside their bounds', () => {
    const role = { role_arn: 'arn:aws:iam::123456789012:role/Prowler', external_id: 'x' };
    assert.match(problems('aws', 'role', { ...role, session_duration: 899 })[0].detail, /at least 900/);
    assert.match(problems('aws', 'role', { ...role, session_duration: 43201 })[0].detail, /at most 43200/);
    assert.match(problems('aws', 'role', { ...role, session_duration: 3600.5 })[0].detail, /must be an integer/);
    assert.match(problems('aws', 'role', { ...role, session_duration: '3600' })[0].detail, /must be an integer/);
    assert.deepEqual(pointers(problems('aws', 'role', { ...role, role_session_name: 'has space' })), [`${SECRET}/role_session_name`]);
  });

  it('an invalid email address', () => {
    assert.deepEqual(pointers(problems('cloudflare', 'static', { api_key: 'k', api_email: 'not-an-email' })), [`${SECRET}/api_email`]);
    assert.deepEqual(pointers(problems('googleworkspace', 'static', { credentials_content: JSON.stringify(GCP_KEY), delegated_user: 'admin' })), [
      `${SECRET}/delegated_user`,
    ]);
  });

  it('a service account key that is not a non-empty object', () => {
    for (const key of ['{"type":"service_account"}', {}, ['a']]) {
      assert.deepEqual(pointers(problems('gcp', 'service_account', { service_account_key: key })), [`${SECRET}/service_account_key`]);
    }
  });

  it('okta scopes that are not a list of strings', () => {
    const base = { okta_client_id: '0oa1', okta_private_key: 'pem' };
    for (const scopes of ['okta.users.read', [1], ['']]) {
      assert.deepEqual(pointers(problems('okta', 'static', { ...base, okta_scopes: scopes })), [`${SECRET}/okta_scopes`]);
    }
  });
});

describe('validateSecret with alternative credentials', () => {
  it('refuses mixing two GitHub credential kinds', () => {
    const found = problems('github', 'static', { personal_access_token: 'ghp', oauth_app_token: 'gho' });
    assert.deepEqual(pointers(found), [`${SECRET}/oauth_app_token`]);
    assert.match(found[0].detail, /cannot be combined with the fields of GitHub personal access token/);
  });

  it('completes the variant the body started: a GitHub App id without its key', () => {
    const found = problems('github', 'static', { github_app_id: 1 });
    assert.deepEqual(pointers(found), [`${SECRET}/github_app_key`]);
  });

  it('names the alternatives when nothing was sent', () => {
    const found = problems('github', 'static', {});
    assert.deepEqual(pointers(found), [`${SECRET}/personal_access_token`]);
    assert.match(found[0].detail, /Alternatively, send only the fields of: GitHub OAuth app token; GitHub App credentials/);
  });

  it('refuses an M365 body with both a client secret and a certificate', () => {
    const found = problems('m365', 'static', { client_id: 'a', tenant_id: 't', client_secret: 's', certificate_content: 'c' });
    assert.deepEqual(pointers(found), [`${SECRET}/certificate_content`]);
  });

  it('refuses an M365 body with neither a client secret nor a certificate', () => {
    assert.deepEqual(pointers(problems('m365', 'static', { client_id: 'a', tenant_id: 't' })), [`${SECRET}/client_secret`]);
  });

  it('refuses an OCI key file path, with or without inline key content: the key comes inline only', () => {
    const oci = { user: 'u', fingerprint: 'f', tenancy: 't', region: 'r' };
    assert.deepEqual(pointers(problems('oraclecloud', 'static', { ...oci, key_file: '/k', key_content: 'LS0t' })), [`${SECRET}/key_file`]);
    assert.deepEqual(pointers(problems('oraclecloud', 'static', { ...oci, key_file: '/etc/shadow' })), [`${SECRET}/key_content`, `${SECRET}/key_file`]);
  });

  it('refuses a registry username without its password', () => {
    assert.deepEqual(pointers(problems('image', 'static', { registry_username: 'robot' })), [`${SECRET}/registry_password`]);
  });

  it('refuses Cloudflare api_key without api_email', () => {
    assert.deepEqual(pointers(problems('cloudflare', 'static', { api_key: 'k' })), [`${SECRET}/api_email`]);
  });
});

describe('validateSecret safety', () => {
  it('never echoes a submitted value in an error', () => {
    const value = 'Sup3r Secret Value';
    const found = [
      ...problems('aws', 'role', { role_arn: 'arn', external_id: 'x', role_session_name: value }),
      ...problems('cloudflare', 'static', { api_key: 'k', api_email: value }),
      ...problems('github', 'static', { github_app_id: value, github_app_key: 'k' }),
    ];
    assert.equal(found.length, 3);
    for (const problem of found) assert.ok(!problem.detail.includes(value), problem.detail);
  });

  it('treats __proto__ from a parsed body as an unknown field without touching prototypes', () => {
    const body: unknown = JSON.parse('{"api_token":"t","__proto__":{"polluted":true}}');
    assert.deepEqual(pointers(problems('vercel', 'static', body)), [`${SECRET}/__proto__`]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('escapes unknown field names in the JSON pointer', () => {
    assert.deepEqual(pointers(problems('vercel', 'static', { api_token: 't', 'a/b~c': 'x' })), [`${SECRET}/a~1b~0c`]);
  });
});
