/** Every route is under this prefix except the health probes, which orchestrators call at fixed paths. */
export const API_PREFIX = 'api/v1';
export const UNPREFIXED_ROUTES: readonly string[] = ['health/live', 'health/ready'];
