import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MutelistDocument, MutelistFormatError, readMutelistConfiguration } from '../../src/processors/mutelist/mutelist-document';
import { CompiledMutelist, MutelistFinding, unrollTags } from '../../src/processors/mutelist/mutelist-matcher';

const ACCOUNT = '123456789012';

function finding(overrides: Partial<MutelistFinding> = {}): MutelistFinding {
  return {
    account: ACCOUNT,
    checkId: 'ec2_instance_public_ip',
    region: 'eu-west-1',
    resource: 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc',
    tags: unrollTags({ Environment: 'dev', Owner: 'team-a' }),
    ...overrides,
  };
}

function mutelist(yaml: string): CompiledMutelist {
  return new CompiledMutelist(readMutelistConfiguration(yaml).Mutelist);
}

function formatError(input: unknown): MutelistFormatError {
  try {
    readMutelistConfiguration(input);
  } catch (error) {
    assert.ok(error instanceof MutelistFormatError, String(error));
    return error;
  }
  assert.fail('the configuration was accepted');
}

describe('Mutelist matching', () => {
  it('accounts: the account itself or "*"; another account is not muted', () => {
    const list = mutelist(`
Mutelist:
  Accounts:
    "${ACCOUNT}":
      Checks:
        ec2_instance_public_ip: { Regions: ["*"], Resources: ["*"] }
`);
    assert.equal(list.mutes(finding()), true);
    assert.equal(list.mutes(finding({ account: '210987654321' })), false);
    const any = mutelist(`{"Mutelist": {"Accounts": {"*": {"Checks": {"ec2_instance_public_ip": {"Regions": ["*"], "Resources": ["*"]}}}}}}`);
    assert.equal(any.mutes(finding({ account: '210987654321' })), true);
  });

  it('checks: by name, by pattern, "*" for all, and "lambda" standing for "awslambda"', () => {
    const byName = mutelist(`Mutelist: { Accounts: { "*": { Checks: { s3_bucket_public_access: { Regions: ["*"], Resources: ["*"] } } } } }`);
    assert.equal(byName.mutes(finding({ checkId: 's3_bucket_public_access' })), true);
    assert.equal(byName.mutes(finding({ checkId: 'ec2_instance_public_ip' })), false);
    const byPattern = mutelist(`Mutelist: { Accounts: { "*": { Checks: { "ec2_*": { Regions: ["*"], Resources: ["*"] } } } } }`);
    assert.equal(byPattern.mutes(finding({ checkId: 'ec2_ebs_default_encryption' })), true);
    assert.equal(byPattern.mutes(finding({ checkId: 'iam_root_mfa_enabled' })), false);
    const all = mutelist(`Mutelist: { Accounts: { "*": { Checks: { "*": { Regions: ["*"], Resources: ["*"] } } } } }`);
    assert.equal(all.mutes(finding({ checkId: 'iam_root_mfa_enabled' })), true);
    const lambda = mutelist(`Mutelist: { Accounts: { "*": { Checks: { lambda_function_url_public: { Regions: ["*"], Resources: ["*"] } } } } }`);
    assert.equal(lambda.mutes(finding({ checkId: 'awslambda_function_url_public' })), true);
  });

  it('regions and resources: any listed one, as patterns searched anywhere in the value', () => {
    const list = mutelist(`
Mutelist:
  Accounts:
    "*":
      Checks:
        ec2_instance_public_ip:
          Regions: [us-east-1, "eu-.*"]
          Resources: ["i-0abc$", "bucket-logs"]
`);
    assert.equal(list.mutes(finding()), true);
    assert.equal(list.mutes(finding({ region: 'us-east-1' })), true);
    assert.equal(list.mutes(finding({ region: 'ap-south-1' })), false);
    assert.equal(list.mutes(finding({ resource: 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0abcd' })), false, '$ anchors the end');
    assert.equal(list.mutes(finding({ resource: 'arn:aws:s3:::my-bucket-logs-2024' })), true, 'unanchored: found inside the uid');
    const none = mutelist(`Mutelist: { Accounts: { "*": { Checks: { "*": { Regions: [], Resources: ["*"] } } } } }`);
    assert.equal(none.mutes(finding()), false, 'an empty Regions list matches nothing');
  });

  it('tags: every listed tag must match; "|" inside one pattern means either', () => {
    const both = mutelist(`Mutelist: { Accounts: { "*": { Checks: { "*": { Regions: ["*"], Resources: ["*"], Tags: ["Environment=dev", "Owner=team-a"] } } } } }`);
    assert.equal(both.mutes(finding()), true);
    assert.equal(both.mutes(finding({ tags: unrollTags({ Environment: 'dev' }) })), false);
    assert.equal(both.mutes(finding({ tags: '' })), false, 'an untagged resource does not match listed tags');
    const either = mutelist(`Mutelist: { Accounts: { "*": { Checks: { "*": { Regions: ["*"], Resources: ["*"], Tags: ["Environment=prod|Owner=team-a"] } } } } }`);
    assert.equal(either.mutes(finding({ tags: unrollTags({ Owner: 'team-a' }) })), true);
    assert.equal(either.mutes(finding({ tags: unrollTags({ Owner: 'team-b' }) })), false);
    const untaggedEntry = mutelist(`Mutelist: { Accounts: { "*": { Checks: { "*": { Regions: ["*"], Resources: ["*"] } } } } }`);
    assert.equal(untaggedEntry.mutes(finding({ tags: '' })), true, 'an entry without Tags ignores them');
  });

  it('exceptions: excepted when every list they have matches, and that stops the account’s later entries', () => {
    const list = mutelist(`
Mutelist:
  Accounts:
    "*":
      Checks:
        "*":
          Regions: ["*"]
          Resources: ["*"]
          Exceptions:
            Accounts: ["${ACCOUNT}"]
            Regions: ["eu-west-1", "eu-central-1"]
`);
    assert.equal(list.mutes(finding()), false, 'account and region both excepted');
    assert.equal(list.mutes(finding({ region: 'us-east-1' })), true, 'the region is not excepted: muted');
    assert.equal(list.mutes(finding({ account: '210987654321' })), true, 'another account is not excepted: muted');

    const tagged = mutelist(`Mutelist: { Accounts: { "*": { Checks: { "*": { Regions: ["*"], Resources: ["*"], Exceptions: { Tags: ["Environment=prod"] } } } } } }`);
    assert.equal(tagged.mutes(finding({ tags: unrollTags({ Environment: 'prod' }) })), false);
    assert.equal(tagged.mutes(finding()), true);

    const stops = mutelist(`
Mutelist:
  Accounts:
    "*":
      Checks:
        "ec2_*":
          Regions: ["*"]
          Resources: ["*"]
          Exceptions: { Resources: ["i-0abc"] }
        ec2_instance_public_ip: { Regions: ["*"], Resources: ["*"] }
`);
    assert.equal(stops.mutes(finding()), false, 'the exception of the first entry stops the second one as in Prowler');
    const otherAccount = mutelist(`
Mutelist:
  Accounts:
    "*":
      Checks:
        "*": { Regions: ["*"], Resources: ["*"], Exceptions: { Regions: ["eu-west-1"] } }
    "${ACCOUNT}":
      Checks:
        ec2_instance_public_ip: { Regions: ["eu-west-1"], Resources: ["*"] }
`);
    assert.equal(otherAccount.mutes(finding()), true, 'an exception under "*" does not stop the account’s own key');
  });

  it('a large list answers per check from the few entries of that check', () => {
    const document: MutelistDocument = { Accounts: { '*': { Checks: {} } } };
    for (let i = 0; i < 1000; i++) document.Accounts['*'].Checks[`service${i}_check`] = { Regions: ['*'], Resources: [`res-${i}$`] };
    const list = new CompiledMutelist(document);
    assert.equal(list.entryCount, 1000);
    assert.equal(list.mutes(finding({ checkId: 'service7_check', resource: 'res-7' })), true);
    assert.equal(list.mutes(finding({ checkId: 'service7_check', resource: 'res-8' })), false);
    // Check keys are searched unanchored, as Prowler does: 'service1_check' is inside 'xservice1_check', not inside 'service11_check'.
    assert.equal(list.mutes(finding({ checkId: 'service11_check', resource: 'res-1' })), false);
    assert.equal(list.mutes(finding({ checkId: 'xservice1_check', resource: 'res-1' })), true);
  });
});

describe('Mutelist configuration', () => {
  it('takes YAML text, JSON text, or an object, all with the Mutelist key', () => {
    const document = { Mutelist: { Accounts: { '*': { Checks: { '*': { Regions: ['*'], Resources: ['*'], Description: 'why' } } } } } };
    assert.deepEqual(readMutelistConfiguration(document), document);
    assert.deepEqual(readMutelistConfiguration(JSON.stringify(document)), document);
    assert.deepEqual(readMutelistConfiguration(`Mutelist:\n  Accounts:\n    "*":\n      Checks:\n        "*":\n          Regions: ["*"]\n          Resources: ["*"]\n          Description: why\n`), document);
  });

  it('a malformed one names the place with a JSON pointer', () => {
    assert.equal(formatError('Mutelist: [unclosed').pointer, '');
    assert.match(formatError({}).message, /'Mutelist' is a required property/);
    assert.equal(formatError({ Mutelist: { Accounts: [] } }).pointer, '/Mutelist/Accounts');
    assert.equal(formatError({ Mutelist: { Accounts: { '*': {} } } }).pointer, '/Mutelist/Accounts/*');
    const checks = (entry: unknown) => ({ Mutelist: { Accounts: { 'a/b': { Checks: { ec2: entry } } } } });
    assert.equal(formatError(checks({ Regions: ['*'] })).pointer, '/Mutelist/Accounts/a~1b/Checks/ec2');
    assert.match(formatError(checks({ Regions: ['*'] })).message, /'Resources' is a required property/);
    assert.equal(formatError(checks({ Regions: ['*'], Resources: ['ok', 3] })).pointer, '/Mutelist/Accounts/a~1b/Checks/ec2/Resources/1');
    assert.equal(formatError(checks({ Regions: ['*'], Resources: ['(unclosed'] })).pointer, '/Mutelist/Accounts/a~1b/Checks/ec2/Resources/0');
    assert.equal(formatError(checks({ Regions: ['*'], Resources: ['*'], Extra: true })).pointer, '/Mutelist/Accounts/a~1b/Checks/ec2/Extra');
    assert.equal(formatError(checks({ Regions: ['*'], Resources: ['*'], Exceptions: { Services: [] } })).pointer, '/Mutelist/Accounts/a~1b/Checks/ec2/Exceptions/Services');
    assert.equal(formatError({ Mutelist: { Accounts: { '*': { Checks: { '[': { Regions: [], Resources: [] } } } } } }).pointer, '/Mutelist/Accounts/*/Checks/[');
    assert.equal(formatError(checks({ Regions: ['*'], Resources: ['a\u0000b'] })).pointer, '/Mutelist/Accounts/a~1b/Checks/ec2/Resources/0');
    assert.equal(formatError({ Mutelist: { Accounts: { '\ud800': { Checks: {} } } } }).pointer, '/Mutelist/Accounts/\ud800');
    assert.equal(formatError('Mutelist: { Accounts: { "*": { Checks: { "x": { Regions: ["a\\0"], Resources: [] } } } } }').pointer, '/Mutelist/Accounts/*/Checks/x/Regions/0');
    assert.equal(formatError(checks({ Regions: ['*'], Resources: ['*'], Exceptions: null })).pointer, '/Mutelist/Accounts/a~1b/Checks/ec2/Exceptions');
  });
});
