/** Who a verified access token or API key says the caller is: set on the request by the auth guard. */
export interface AuthenticatedUser {
  userId: string;
  tenantId: string;
  tokenId: string;
  /** Set when the caller presented an API key: its liveness is re-checked inside every request's transaction. */
  apiKeyId?: string;
}
