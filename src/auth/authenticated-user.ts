/** What a verified access token says: set on the request by the JWT guard. */
export interface AuthenticatedUser {
  userId: string;
  tenantId: string;
  tokenId: string;
}
