import { rlsTransaction } from '../../src/database/rls-transaction';
import { TenantDatabase } from '../../src/database/tenant-database';
import { newId } from '../../src/database/uuid';
import { FindingsIngestionService } from '../../src/findings/ingestion/findings-ingestion.service';
import { IngestionScan } from '../../src/findings/ingestion/ingestion-record';
import { createGroup, createRole, invite, inviteMember, Member, uniqueName } from './access-fixtures';
import { CheckDefinition } from './check-definitions';
import { adminClient } from './database';
import { generateRecords } from './finding-generator';
import { SignedUpUser, signUp } from './http-client';
import { awsProvider, fixtureFindings, importAndWait } from './scans-fixture';
import { waitFor } from './tasks-fixture';
import { TestApp } from './test-app';
import { TestIdp } from './saml-idp';
import { SLACK_TOKEN } from './integration-servers';

/**
 * A tenant holding one of each object, made through the public API as its
 * users would: a provider with a secret, a scan imported from Prowler's OCSF
 * output (findings, resources, tags, summaries, compliance, a report task),
 * a provider group, a role, a member who joined by invitation, a pending
 * invitation, a mute rule, a daily schedule, a row filter rule, a Slack
 * integration that posted its scan summary, a Mutelist processor (and its
 * backfill task), tasks, and an import under way (a batch written, its scan
 * not yet published). The app must run the workers in process
 * (LocalAppModule, WORKERS_IN_PROCESS=true, a SCAN_SPOOL_DIR), send Slack
 * calls to a receiver (slackTestEnv), load PROWLER_COMPLIANCE_DIR (for a
 * ThreatScore snapshot and compliance reports) and PROWLER_CHECKS_DIR with
 * worldCheckDefinitions() (for resource-group figures). `ids` holds the id of every
 * object by kind; `needles` the ids and other identifying strings that no
 * other tenant's answer may contain.
 */
export interface TenantWorld {
  owner: SignedUpUser;
  member: Member;
  tenantId: string;
  ids: {
    tenant: string;
    ownerUser: string;
    memberUser: string;
    ownerMembership: string;
    memberMembership: string;
    provider: string;
    secret: string;
    scan: string;
    findings: string[];
    resources: string[];
    group: string;
    role: string;
    adminRole: string;
    invitation: string;
    muteRule: string;
    rlsRule: string;
    apiKey: string;
    samlConfiguration: string;
    integration: string;
    processor: string;
    tasks: string[];
  };
  providerUid: string;
  invitationToken: string;
  needles: string[];
}

/** A resource group for every check of the imported file, so the per-group figures hold rows of the tenant too. */
export function worldCheckDefinitions(): CheckDefinition[] {
  const checkIds = new Set(fixtureFindings().map((finding) => finding.metadata.event_code as string));
  return [...checkIds].map((checkId) => ({ provider: 'aws', checkId, resourceGroup: 'compute' }));
}

const STATIC_AWS = { aws_access_key_id: 'AKIAWORLDTENANT00001', aws_secret_access_key: 'world-tenant-secret-value' };

function expectCreated(result: { status: number; body: any }, what: string, status = 201): any {
  if (result.status !== status) throw new Error(`${what}: expected ${status}, got ${result.status} ${JSON.stringify(result.body)}`);
  return result.body.data;
}

export async function buildTenantWorld(app: TestApp, label: string): Promise<TenantWorld> {
  const owner = await signUp(app.baseUrl, label);
  const client = owner.client;
  const provider = await awsProvider(client, uniqueName(`${label}-alias`));
  const secret = expectCreated(
    await client.post('/api/v1/providers/secrets', {
      data: { type: 'provider-secrets', attributes: { secret_type: 'static', secret: STATIC_AWS }, relationships: { provider: { data: { type: 'providers', id: provider.id } } } },
    }),
    'secret',
  );
  // Linked before the import, so the scan's follow-up posts its summary and leaves a delivery row.
  const integration = expectCreated(
    await client.post('/api/v1/integrations', {
      data: {
        type: 'integrations',
        attributes: { integration_type: 'slack', configuration: { channel: 'C0123456789' }, credentials: { bot_token: SLACK_TOKEN } },
        relationships: { providers: { data: [{ type: 'providers', id: provider.id }] } },
      },
    }),
    'integration',
  );
  // Tagged resources, so the tag tables hold rows of this tenant too; a category, so the per-category figures do.
  const records = fixtureFindings(provider.uid).map((finding) => ({
    ...finding,
    unmapped: { ...finding.unmapped, categories: ['internet-exposed'] },
    resources: finding.resources.map((resource: Record<string, unknown>) => ({ ...resource, labels: [`team:${label}`, 'env:test'] })),
  }));
  const imported = await importAndWait(client, provider.id, JSON.stringify(records), 60000);
  if (imported.attributes.state !== 'completed') throw new Error(`import: ${JSON.stringify(imported.attributes.result)}`);
  const scanId: string = imported.attributes.task_args.scan_id;
  const findings = (await client.get(`/api/v1/findings?filter[scan]=${scanId}&page[size]=50`)).body.data.map((f: { id: string }) => f.id);
  const resources = (await client.get(`/api/v1/resources?filter[provider]=${provider.id}&page[size]=50`)).body.data.map((r: { id: string }) => r.id);

  const group = await createGroup(client, [provider.id], `${label}-group`);
  const role = await createRole(client, { manage_scans: true }, `${label}-role`, [group]);
  const member = await inviteMember(app.baseUrl, owner, [role], `${label}-member`);
  const invitation = await invite(client, `${uniqueName(`${label}-invitee`)}@example.com`, [role]);
  const muteRule = expectCreated(
    await client.post('/api/v1/mute-rules', { data: { type: 'mute-rules', attributes: { name: uniqueName('mute'), reason: 'Accepted risk', finding_ids: [findings[0]] } } }),
    'mute rule',
  );
  const schedule = expectCreated(await client.post('/api/v1/schedules/daily', { data: { type: 'daily-schedules', attributes: { provider_id: provider.id } } }), 'schedule', 202);
  const rlsRule = expectCreated(
    await client.post('/api/v1/rls-rules', {
      data: {
        type: 'rls-rules',
        attributes: { name: uniqueName('rule'), filter_type: 'Regular', clause: "severity <> 'low'" },
        relationships: { roles: { data: [{ type: 'roles', id: role }] }, tables: { data: [{ type: 'rls-tables', id: 'findings' }] } },
      },
    }),
    'row filter rule',
  );
  const apiKey = expectCreated(await client.post('/api/v1/api-keys', { data: { type: 'api-keys', attributes: { name: uniqueName('key') } } }), 'API key');
  const samlConfiguration = expectCreated(
    await client.post('/api/v1/saml-config', {
      data: { type: 'saml-configurations', attributes: { email_domain: `${uniqueName(label)}.example`, metadata_xml: new TestIdp().metadata() } },
    }),
    'SAML configuration',
  );
  const processor = expectCreated(
    await client.post('/api/v1/processors', {
      data: {
        type: 'processors',
        attributes: { processor_type: 'mutelist', configuration: { Mutelist: { Accounts: { [provider.uid]: { Checks: { 'account_*': { Regions: ['us-east-1'], Resources: ['*'] } } } } } } },
      },
    }),
    'Mutelist processor',
  );
  const memberships = (await client.get(`/api/v1/tenants/${owner.tenantId}/memberships`)).body.data as Array<{ id: string; relationships: any }>;
  const membershipOf = (userId: string) => memberships.find((m) => m.relationships.user.data.id === userId)!.id;
  const adminRole = (await client.get(`/api/v1/users/${owner.userId}`)).body.data.relationships.roles.data[0].id;

  await settle(owner.tenantId);
  await importUnderWay(app, { tenantId: owner.tenantId, scanId: newId(), providerId: provider.id, scanStartedAt: new Date() });
  const tasks = (await client.get('/api/v1/tasks?page[size]=100')).body.data.map((t: { id: string }) => t.id);
  const ids = {
    tenant: owner.tenantId,
    ownerUser: owner.userId,
    memberUser: member.userId,
    ownerMembership: membershipOf(owner.userId),
    memberMembership: membershipOf(member.userId),
    provider: provider.id,
    secret: secret.id,
    scan: scanId,
    findings,
    resources,
    group,
    role,
    adminRole,
    invitation: invitation.id,
    muteRule: muteRule.id,
    rlsRule: rlsRule.id,
    apiKey: apiKey.id,
    samlConfiguration: samlConfiguration.id,
    integration: integration.id,
    processor: processor.id,
    tasks: [...new Set([imported.id, schedule.id, ...tasks])],
  };
  const needles = [...new Set([...Object.values(ids).flat(), provider.uid, owner.email, member.email, invitation.token])];
  return { owner, member, tenantId: owner.tenantId, ids, providerUid: provider.uid, invitationToken: invitation.token, needles };
}

/** Waits until none of the tenant's tasks is still to run, so its rows stop changing. */
/** A batch of a scan whose import is still under way (written, not published), so unpublished_scans holds a row of the tenant. */
async function importUnderWay(app: TestApp, scan: IngestionScan): Promise<void> {
  const ingestion = app.app.get(FindingsIngestionService);
  await ingestion.prepareScan(scan);
  const records = [...generateRecords({ providerKey: `under-way-${scan.scanId}`, count: 1 })];
  await rlsTransaction(app.app.get(TenantDatabase).app, scan.tenantId, (m) => ingestion.ingestBatch(m, scan, records));
}

async function settle(tenantId: string): Promise<void> {
  const admin = await adminClient();
  try {
    await waitFor(
      'the tenant’s tasks to finish',
      async () => {
        const { rows } = await admin.query(`SELECT count(*)::int AS n FROM tasks WHERE tenant_id = $1 AND state IN ('available', 'scheduled', 'executing')`, [tenantId]);
        return rows[0].n === 0 ? true : undefined;
      },
      60000,
    );
  } finally {
    await admin.end();
  }
}

