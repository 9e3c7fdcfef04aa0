import { Client } from 'pg';
import { newId } from '../../src/database/uuid';
import { ApiClient, signIn, signUp, SignedUpUser } from './http-client';
import { generateRecords } from './finding-generator';
import { ingestScan, insertProvider, insertScan } from './findings-fixtures';
import { TestApp } from './test-app';

/**
 * One tenant with findings to read: two AWS providers and an Azure one, the
 * first scanned twice (so delta and "latest" mean something), every scan
 * ingested through the real path and aggregated.
 */
export interface FindingsWorld {
  owner: SignedUpUser;
  tenantId: string;
  providers: { aws1: string; aws2: string; azure: string };
  scans: { aws1First: string; aws1Second: string; aws2: string; azure: string };
  startedAt: { aws1First: Date; aws1Second: Date; aws2: Date; azure: Date };
}

export async function buildFindingsWorld(app: TestApp, admin: Client, label: string, size = 600): Promise<FindingsWorld> {
  const owner = await signUp(app.baseUrl, label);
  const tenantId = owner.tenantId;
  const providers = {
    aws1: await insertProvider(admin, tenantId, 'aws', '111111111111'),
    aws2: await insertProvider(admin, tenantId, 'aws', '222222222222'),
    azure: await insertProvider(admin, tenantId, 'azure', newId()),
  };
  const hour = 3600_000;
  const now = Date.now();
  const startedAt = {
    aws1First: new Date(now - 5 * hour),
    aws1Second: new Date(now - 3 * hour),
    aws2: new Date(now - 2 * hour),
    azure: new Date(now - hour),
  };
  const scans = {
    aws1First: await insertScan(admin, tenantId, providers.aws1, startedAt.aws1First),
    aws1Second: await insertScan(admin, tenantId, providers.aws1, startedAt.aws1Second),
    aws2: await insertScan(admin, tenantId, providers.aws2, startedAt.aws2),
    azure: await insertScan(admin, tenantId, providers.azure, startedAt.azure),
  };
  const ingest = (scan: keyof FindingsWorld['scans'], provider: keyof FindingsWorld['providers'], key: string, count: number, scanIndex = 0) =>
    ingestScan(app, { tenantId, scanId: scans[scan], providerId: providers[provider], scanStartedAt: startedAt[scan] }, generateRecords({ providerKey: key, count, scanIndex }));
  await ingest('aws1First', 'aws1', 'aws1', size);
  await ingest('aws1Second', 'aws1', 'aws1', size + 100, 1);
  await ingest('aws2', 'aws2', 'aws2', size / 2);
  await ingest('azure', 'azure', 'azure', size / 3);
  return { owner, tenantId, providers, scans, startedAt };
}

/**
 * A second user in the world's tenant whose only role lacks unlimited
 * visibility and sees one provider group holding `visibleProvider`.
 */
export async function limitedMember(app: TestApp, admin: Client, world: FindingsWorld, visibleProvider: string): Promise<ApiClient> {
  const user = await signUp(app.baseUrl, 'limited');
  const roleId = newId();
  const groupId = newId();
  await admin.query(`INSERT INTO memberships (id, tenant_id, user_id, role) VALUES ($1, $2, $3, 'member')`, [newId(), world.tenantId, user.userId]);
  await admin.query(`INSERT INTO roles (id, tenant_id, name, unlimited_visibility) VALUES ($1, $2, $3, false)`, [roleId, world.tenantId, `limited-${roleId.slice(-6)}`]);
  await admin.query(`INSERT INTO user_roles (id, tenant_id, user_id, role_id) VALUES ($1, $2, $3, $4)`, [newId(), world.tenantId, user.userId, roleId]);
  await admin.query(`INSERT INTO provider_groups (id, tenant_id, name) VALUES ($1, $2, $3)`, [groupId, world.tenantId, `group-${groupId.slice(-6)}`]);
  await admin.query(`INSERT INTO provider_group_memberships (id, tenant_id, provider_group_id, provider_id) VALUES ($1, $2, $3, $4)`, [
    newId(), world.tenantId, groupId, visibleProvider,
  ]);
  await admin.query(`INSERT INTO role_provider_groups (id, tenant_id, role_id, provider_group_id) VALUES ($1, $2, $3, $4)`, [newId(), world.tenantId, roleId, groupId]);
  const tokens = await signIn(app.baseUrl, user.email, user.password, world.tenantId);
  return new ApiClient(app.baseUrl, tokens.access);
}
