import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { beyondHolder, Grant, Holder, judgeMemberChanges, MemberGrant } from '../../src/rbac/grant-policy';
import { Permission, PERMISSIONS } from '../../src/rbac/permissions';

const grant = (permissions: Permission[], providers: string[] | null = []): Grant => ({ permissions: new Set(permissions), providers: providers && new Set(providers) });
const FULL = grant([...PERMISSIONS], null);
const member = (g: Grant, owner = false, rolesSignature = 'r'): MemberGrant => ({ owner, rolesSignature, grant: g });
const holder = (permissions: Permission[], visible: string[] | null, membershipRole: Holder['membershipRole'] = 'member'): Holder => ({
  permissions: new Set(permissions),
  visibleProviderIds: visible && new Set(visible),
  membershipRole,
});

describe('grant policy', () => {
  it('names the permissions and unseen providers a grant holds beyond the holder, ignoring what was already there', () => {
    const manager = holder(['manage_users'], ['p1']);
    assert.deepEqual(beyondHolder(grant(['manage_users', 'manage_scans'], ['p1']), manager), { permissions: ['manage_scans'], unseenProviders: false });
    assert.deepEqual(beyondHolder(grant([], ['p1', 'p2']), manager), { permissions: [], unseenProviders: true });
    assert.deepEqual(beyondHolder(grant(['manage_scans'], ['p2']), manager, grant(['manage_scans'], ['p2'])), { permissions: [], unseenProviders: false });
    assert.deepEqual(beyondHolder(grant(['unlimited_visibility'], null), manager).permissions, ['unlimited_visibility']);
    assert.deepEqual(beyondHolder(grant([], ['p9']), holder([], null)), { permissions: [], unseenProviders: false }, 'a holder who sees everything grants any provider');
  });

  it('refuses a member touching an owner, a gain beyond the caller, and losing the last full owner', () => {
    const owner = member(FULL, true, 'admin');
    const before = new Map([['owner', owner], ['m', member(grant([]))]]);
    const manager = holder(['manage_users'], []);
    assert.equal(judgeMemberChanges(before, new Map([['owner', { ...owner, rolesSignature: 'changed' }], ['m', member(grant([]))]]), manager)?.code, 'owner_only');
    assert.equal(judgeMemberChanges(before, new Map([['m', member(grant([]))]]), manager)?.code, 'owner_only', 'removing the owner');
    assert.equal(judgeMemberChanges(before, new Map([['owner', owner], ['m', member(grant(['manage_scans']))]]), manager)?.code, 'grant_not_held');
    assert.equal(judgeMemberChanges(before, new Map([['owner', owner], ['m', member(grant(['manage_users']))]]), manager), null);
    const ownerCaller = holder([...PERMISSIONS], null, 'owner');
    assert.equal(judgeMemberChanges(before, new Map([['owner', member(grant(['manage_users']), true, 'x')], ['m', member(grant([]))]]), ownerCaller)?.code, 'last_owner');
    assert.equal(judgeMemberChanges(before, new Map([['m', member(grant([]))]]), ownerCaller)?.code, 'last_owner');
    const twoOwners = new Map([...before, ['second', member(FULL, true, 'admin2')]]);
    assert.equal(judgeMemberChanges(twoOwners, new Map([...twoOwners, ['owner', member(grant(['manage_users']), true, 'x')]]), ownerCaller), null);
  });
});
