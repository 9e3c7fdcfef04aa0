import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cloudsYamlProblem } from '../../src/providers/credential-documents/openstack-clouds-yaml';
import { gcpServiceAccountKeyProblem } from '../../src/providers/credential-documents/gcp-service-account-key';
import { kubeconfigProblem } from '../../src/providers/credential-documents/kubeconfig';
import { remoteEndpointProblem } from '../../src/providers/credential-documents/remote-endpoint';
import { jsonDepthExceeds } from '../../src/common/json/json-depth';
import { GCP_KEY, KUBECONFIG } from '../support/secret-fixtures';

/** The fixture with its user's credentials replaced by the given YAML lines (indented under `user:`). */
function kubeconfigWithUser(lines: string): string {
  return KUBECONFIG.replace('      token: eyJhbGciOiJSUzI1NiJ9.e30.c2ln\n', lines.replace(/^/gm, '      ') + '\n');
}

describe('kubeconfigs', () => {
  it('accepts inline credentials', () => {
    assert.equal(kubeconfigProblem(KUBECONFIG), undefined);
    assert.equal(kubeconfigProblem(kubeconfigWithUser('client-certificate-data: LS0t\nclient-key-data: LS0t')), undefined);
    assert.equal(kubeconfigProblem(JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] })), undefined);
  });

  it('refuses a user that runs a command, whatever the spelling', () => {
    const attacks = [
      'exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: /bin/sh\n  args: ["-c", "cat /proc/$PPID/environ"]',
      'auth-provider:\n  name: gcp\n  config:\n    cmd-path: /bin/sh',
      '"ex\\u0065c": { command: /bin/sh }',
      '<<: { exec: { command: /bin/sh } }',
      'extensions:\n  - name: x\n    extension: { exec: { command: /bin/sh } }',
    ];
    for (const attack of attacks) assert.match(kubeconfigProblem(kubeconfigWithUser(attack)) ?? 'accepted', /exec|auth-provider|<<|may not hold/, attack);
    const viaAlias = `${KUBECONFIG}extensions:\n  - name: hidden\n    extension: &run { exec: { command: /bin/sh } }\n`;
    assert.match(kubeconfigProblem(viaAlias) ?? 'accepted', /exec/);
  });

  it('refuses every file-path field at any depth', () => {
    for (const key of ['client-certificate', 'client-key', 'tokenFile', 'token-file', 'credentials-file', 'keyFile']) {
      assert.match(kubeconfigProblem(kubeconfigWithUser(`${key}: /etc/shadow`)) ?? 'accepted', new RegExp(`users\\[0\\]\\.user\\.${key}`), key);
    }
    const caFile = KUBECONFIG.replace('certificate-authority-data: LS0tLS1CRUdJTg==', 'certificate-authority: /var/run/secrets/ca.crt');
    assert.match(kubeconfigProblem(caFile) ?? 'accepted', /clusters\[0\]\.cluster\.certificate-authority/);
  });

  it('refuses a cluster on the scanning host or a metadata service', () => {
    for (const server of ['http://k8s.example.com', 'https://127.0.0.1:6443', 'https://169.254.169.254', 'https://metadata.google.internal', 'https://[::1]:6443', 'https://[::ffff:127.0.0.1]', 'https://2130706433', 'file:///etc/passwd']) {
      assert.match(kubeconfigProblem(KUBECONFIG.replace('https://k8s.example.com:6443', server)) ?? 'accepted', /server/, server);
    }
  });

  it('refuses malformed, ambiguous or explosive YAML without quoting it', () => {
    const cases = [
      'users: [',
      'users: []\nusers: []',
      'a: 1\n---\nb: 2\n',
      'users: !custom []',
      'a: ' + '['.repeat(30000) + ']'.repeat(30000),
      `a: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`).join('\n')}`,
      '- just a list',
      'plain text',
    ];
    for (const text of cases) {
      const problem = kubeconfigProblem(text);
      assert.ok(problem, `accepted: ${text.slice(0, 40)}`);
      assert.ok(!problem.includes('just a list') && !problem.includes('plain text'), problem);
    }
  });
});

describe('GCP service account keys', () => {
  it('accepts a key as Google issues it, as an object or as its JSON text', () => {
    assert.equal(gcpServiceAccountKeyProblem(GCP_KEY), undefined);
    assert.equal(gcpServiceAccountKeyProblem(JSON.stringify(GCP_KEY)), undefined);
  });

  it('refuses other credential types, unknown fields and endpoints that are not Google’s', () => {
    const externalAccount = {
      type: 'external_account',
      audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/p',
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: 'https://sts.googleapis.com/v1/token',
      credential_source: { file: '/proc/self/environ' },
    };
    assert.match(gcpServiceAccountKeyProblem(externalAccount)!, /type 'service_account'/);
    assert.match(gcpServiceAccountKeyProblem({ ...externalAccount, type: 'authorized_user' })!, /type 'service_account'/);
    assert.match(gcpServiceAccountKeyProblem({ ...GCP_KEY, credential_source: { url: 'http://169.254.169.254/' } })!, /'credential_source'/);
    assert.match(gcpServiceAccountKeyProblem({ ...GCP_KEY, token_uri: 'http://169.254.169.254/token' })!, /'token_uri'/);
    assert.match(gcpServiceAccountKeyProblem({ ...GCP_KEY, universe_domain: 'evil.example' })!, /'universe_domain'/);
    assert.match(gcpServiceAccountKeyProblem({ type: 'service_account', private_key: GCP_KEY.private_key })!, /lacks 'client_email'/);
    assert.match(gcpServiceAccountKeyProblem('{"type":')!, /JSON/);
    assert.match(gcpServiceAccountKeyProblem('['.repeat(100000))!, /nests too deeply/);
  });
});

describe('OpenStack clouds.yaml', () => {
  const clouds = (auth: string) => `clouds:\n  prod:\n${auth.replace(/^/gm, '    ')}\n`;
  it('refuses local files and local or metadata endpoints', () => {
    assert.match(cloudsYamlProblem(clouds('cacert: /etc/ssl/private/key.pem'))!, /clouds\.prod\.cacert/);
    assert.match(cloudsYamlProblem(clouds('key: /root/.ssh/id_rsa'))!, /clouds\.prod\.key/);
    assert.match(cloudsYamlProblem(clouds('auth:\n  auth_url: http://169.254.169.254/openstack'))!, /auth_url/);
    assert.match(cloudsYamlProblem(clouds('auth:\n  auth_url: https://127.0.0.1:5000/v3'))!, /auth_url/);
    assert.match(cloudsYamlProblem('prod: {}')!, /clouds/);
  });
});

describe('remote endpoints', () => {
  it('accepts remote https hosts and refuses local ones, in every notation', () => {
    assert.equal(remoteEndpointProblem('https://github.com/org/repo.git'), undefined);
    for (const url of ['file:///etc/passwd', 'ext::sh -c id', 'ssh://git@github.com/x', 'http://github.com/x', 'https://localhost/x', 'https://a.localhost/', 'https://0x7f.1/', 'https://[fe80::1]/', 'https://169.254.170.2/v2/credentials', 'https://[fd00:ec2::254]/', 'https://0.0.0.0/']) {
      assert.ok(remoteEndpointProblem(url), url);
    }
  });
});

describe('JSON depth', () => {
  it('counts nesting without parsing, skipping brackets in strings', () => {
    assert.equal(jsonDepthExceeds('[[[]]]', 3), false);
    assert.equal(jsonDepthExceeds('[[[[]]]]', 3), true);
    assert.equal(jsonDepthExceeds('{"a":{"b":{"c":1}}}', 3), false);
    assert.equal(jsonDepthExceeds('{"a":{"b":{"c":{}}}}', 3), true);
    assert.equal(jsonDepthExceeds(`["${'['.repeat(100)}", "\\"[[[[[["]`, 1), false);
    assert.equal(jsonDepthExceeds('['.repeat(200000) + ']'.repeat(200000)), true);
  });
});
