/** The four connection pools of DESIGN section 2; see database.module.ts. */
export const APP_DATA_SOURCE = 'default';
export const ADMIN_DATA_SOURCE = 'admin';
export const REPLICA_DATA_SOURCE = 'replica';
export const ADMIN_REPLICA_DATA_SOURCE = 'adminReplica';
