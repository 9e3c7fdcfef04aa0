import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/common/errors/api-error';
import { PROVIDER_TYPES, ProviderType, validateProviderUid } from '../../src/providers/provider-uid-rules';

interface UidExamples {
  accepted: string[];
  refused: string[];
}

/** A 251-character value starting with `prefix`: one past the upper bound. */
const tooLong = (prefix: string) => prefix + 'a'.repeat(251 - prefix.length);

const EXAMPLES: Record<ProviderType, UidExamples> = {
  aws: {
    accepted: ['123456789012', '000000000000'],
    refused: ['12345678901', '1234567890123', '12345678901a', ' 123456789012', ''],
  },
  azure: {
    accepted: ['8b9f4c3e-1a2b-4c3d-8e4f-5a6b7c8d9e0f', '00000000-0000-4000-a000-000000000000'],
    refused: [
      '8B9F4C3E-1A2B-4C3D-8E4F-5A6B7C8D9E0F', // upper case
      '8b9f4c3e-1a2b-1c3d-8e4f-5a6b7c8d9e0f', // version 1
      '8b9f4c3e-1a2b-4c3d-ce4f-5a6b7c8d9e0f', // wrong variant
      '8b9f4c3e1a2b4c3d8e4f5a6b7c8d9e0f', // no hyphens
      '{8b9f4c3e-1a2b-4c3d-8e4f-5a6b7c8d9e0f}',
    ],
  },
  gcp: {
    accepted: ['my-project-123', 'example.com:my-project', 'abcdef'],
    refused: ['My-Project', 'abc12', '1project', 'proj_ect', 'a'.repeat(31)],
  },
  kubernetes: {
    accepted: ['arn:aws:eks:us-east-1:123456789012:cluster/prod', 'kind-kind', 'user@cluster.local', 'a'.repeat(250)],
    refused: ['-context', 'ab', 'a'.repeat(251), 'has space'],
  },
  m365: {
    accepted: ['contoso.onmicrosoft.com', 'Example-Org.co.uk', 'a.bc'],
    refused: ['contoso', '-bad.com', 'bad-.com', 'contoso.c0m', `${'a'.repeat(64)}.com`, `${'a'.repeat(60)}.`.repeat(5) + 'com'],
  },
  github: {
    accepted: ['prowler-cloud', 'a1b', 'A'.repeat(39)],
    refused: ['ab', '-org', 'a'.repeat(40), 'org_name'],
  },
  iac: {
    accepted: [
      'https://github.com/prowler-cloud/prowler.git',
      'git@github.com:org/repo.git',
      'ssh://git@host.example/org/repo.git',
      'https://gitlab.com/org/repo',
    ],
    refused: ['git@github.com:org/repo', 'ftp://host/repo.git', 'https://', 'https://host/has space', tooLong('https://example.com/')],
  },
  oraclecloud: {
    accepted: ['ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq', 'ocid1.tenancy.oc1.phx.abc123'],
    refused: ['ocid2.tenancy.oc1..abc', 'ocid1.tenancy.oc1..ABC', 'ocid1.tenancy.oc1', `ocid1.tenancy.oc1..${'a'.repeat(232)}`],
  },
  mongodbatlas: {
    accepted: ['5f4e3d2c1b0a9f8e7d6c5b4a', 'ABCDEFabcdef012345678901'],
    refused: ['5f4e3d2c1b0a9f8e7d6c5b4', '5f4e3d2c1b0a9f8e7d6c5b4a0', 'g5f4e3d2c1b0a9f8e7d6c5b4'],
  },
  alibabacloud: {
    accepted: ['1234567890123456', '0000000000000001'],
    refused: ['123456789012345', '12345678901234567', 'a234567890123456'],
  },
  cloudflare: {
    accepted: ['0123456789abcdef0123456789abcdef', 'ffffffffffffffffffffffffffffffff'],
    refused: ['0123456789ABCDEF0123456789ABCDEF', '0123456789abcdef0123456789abcde', '0123456789abcdef0123456789abcdef0'],
  },
  openstack: {
    accepted: ['a1b2c3d4e5f6', 'my_project.prod-1', 'a'.repeat(250)],
    refused: ['_project', 'ab', 'a'.repeat(251), 'proj/ect'],
  },
  image: {
    accepted: ['nginx:latest', 'registry.example.com/team/app:1.0', `alpine@sha256:${'0'.repeat(64)}`],
    refused: ['ab', '/nginx', 'nginx latest', 'a'.repeat(251)],
  },
  googleworkspace: {
    accepted: ['C01234567', 'Cabc123'],
    refused: ['C1', 'c0123456', 'C012-3456', 'X12345678'],
  },
  vercel: {
    accepted: ['team_abcdefghijklmnop', `team_${'A1'.repeat(16)}`],
    refused: ['team_abcdefghijklmno', `team_${'a'.repeat(33)}`, 'Team_abcdefghijklmnop', 'team-abcdefghijklmnop'],
  },
  okta: {
    accepted: ['acme.okta.com', 'acme-dev.oktapreview.com', 'gov1.okta-gov.com', 'x.trex-govcloud.com'],
    refused: ['acme.okta.co', 'okta.com', '-acme.okta.com', 'acme.evil.com', 'a.b.okta.com', `${'x'.repeat(245)}.okta.com`],
  },
};

function refusal(provider: ProviderType, uid: string): ApiError {
  try {
    validateProviderUid(provider, uid);
  } catch (error) {
    assert.ok(error instanceof ApiError, `expected an ApiError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${provider} accepted ${JSON.stringify(uid)}`);
}

describe('validateProviderUid', () => {
  it('has examples for every provider type', () => {
    assert.equal(PROVIDER_TYPES.length, 16);
    assert.deepEqual(Object.keys(EXAMPLES).sort(), [...PROVIDER_TYPES].sort());
  });

  for (const provider of PROVIDER_TYPES) {
    describe(provider, () => {
      const { accepted, refused } = EXAMPLES[provider];
      assert.ok(accepted.length >= 2 && refused.length >= 3, 'each provider needs 2 accepted and 3 refused examples');

      for (const uid of accepted) {
        it(`accepts ${JSON.stringify(uid.length > 40 ? `${uid.slice(0, 40)}…` : uid)}`, () => {
          const expected = provider === 'okta' ? uid.trim().toLowerCase() : uid;
          assert.equal(validateProviderUid(provider, uid), expected);
        });
      }

      for (const uid of refused) {
        it(`refuses ${JSON.stringify(uid.length > 40 ? `${uid.slice(0, 40)}… (${uid.length} chars)` : uid)}`, () => {
          const error = refusal(provider, uid);
          assert.equal(error.status, 400);
          assert.equal(error.code, `${provider}-uid`);
          assert.deepEqual(error.source, { pointer: '/data/attributes/uid' });
          assert.ok(error.detail.length > 0);
        });
      }
    });
  }

  describe('length bounds', () => {
    it('refuses a uid shorter than 3 characters even when the pattern allows it', () => {
      for (const provider of ['kubernetes', 'github', 'openstack', 'googleworkspace'] as const) {
        const uid = provider === 'googleworkspace' ? 'C1' : 'ab';
        assert.match(refusal(provider, uid).detail, /between 3 and 250 characters/);
      }
    });

    it('refuses a uid longer than 250 characters even when the pattern allows it', () => {
      assert.match(refusal('kubernetes', 'a'.repeat(251)).detail, /between 3 and 250 characters/);
      assert.match(refusal('openstack', 'a'.repeat(251)).detail, /between 3 and 250 characters/);
      assert.match(refusal('iac', tooLong('https://example.com/')).detail, /between 3 and 250 characters/);
    });

    it('accepts exactly 3 and exactly 250 characters', () => {
      assert.equal(validateProviderUid('github', 'abc'), 'abc');
      assert.equal(validateProviderUid('kubernetes', 'k'.repeat(250)), 'k'.repeat(250));
    });

    it('describes the expected format when the pattern fails', () => {
      assert.match(refusal('aws', '12345').detail, /12-digit AWS account ID/);
    });
  });

  describe('okta normalisation', () => {
    it('trims and lower-cases before checking', () => {
      assert.equal(validateProviderUid('okta', '  ACME-Dev.OktaPreview.COM \n'), 'acme-dev.oktapreview.com');
    });

    it('measures the length after trimming', () => {
      const host = `${'x'.repeat(241)}.okta.com`; // 250 characters
      assert.equal(validateProviderUid('okta', `   ${host}   `), host);
      assert.equal(refusal('okta', '   ').code, 'okta-uid');
    });
  });

  it('leaves other providers unchanged: no trimming, no case folding', () => {
    assert.equal(refusal('aws', '123456789012 ').code, 'aws-uid');
    assert.equal(validateProviderUid('github', 'Prowler-Cloud'), 'Prowler-Cloud');
    assert.equal(refusal('cloudflare', '0123456789ABCDEF0123456789ABCDEF').code, 'cloudflare-uid');
  });

  it('never echoes the uid in the error detail', () => {
    const uid = 'not-an-account-id-xyz';
    assert.ok(!refusal('aws', uid).detail.includes(uid));
  });
});
