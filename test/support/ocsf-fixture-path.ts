import { resolve } from 'node:path';

/** Prowler's example JSON-OCSF output (AWS), kept in the repository so the tests need nothing beside it. */
export const OCSF_FIXTURE = resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'ocsf', 'prowler-output-aws.ocsf.json');
