import { dateTime, oneOf, text } from '../common/jsonapi/attribute-schema';
import { ResourceDefinition } from '../common/jsonapi/resource-definition';

export type InvitationState = 'pending' | 'accepted' | 'expired' | 'revoked';

export interface InvitationRow {
  id: string;
  email: string;
  /** A pending invitation past its expiry reads as `expired`. */
  state: InvitationState;
  expires_at: Date;
  inserted_at: Date;
  updated_at: Date;
  inviter_id: string | null;
  role_ids: string[] | null;
  /** Present while the invitation is pending (see InvitationsService). */
  token?: string;
}

export const INVITATION_FIELDS = ['inserted_at', 'updated_at', 'email', 'state', 'token', 'expires_at', 'roles', 'inviter'] as const;

export const invitationResource: ResourceDefinition<InvitationRow> = {
  schema: {
    inserted_at: dateTime,
    updated_at: dateTime,
    email: text,
    state: oneOf(['pending', 'accepted', 'expired', 'revoked']),
    expires_at: dateTime,
    token: text,
  },
  type: 'invitations',
  selfPath: 'tenants/invitations',
  id: (i) => i.id,
  attributes: (i) => ({
    inserted_at: i.inserted_at,
    updated_at: i.updated_at,
    email: i.email,
    state: i.state,
    expires_at: i.expires_at,
    ...(i.token === undefined ? {} : { token: i.token }),
  }),
  relationships: {
    roles: { type: 'roles', many: true, ids: (i) => i.role_ids ?? [] },
    inviter: { type: 'users', ids: (i) => i.inviter_id },
  },
};
