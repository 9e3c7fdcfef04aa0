import { remoteEndpointProblem } from './remote-endpoint';
import { isMapping, mappingKeys, pathText, readYamlDocument } from './yaml-document';

/**
 * clouds.yaml keys that name files on the scanning host (the CA bundle, the
 * client certificate and key) and their `*_file`/`*-file` kin. The
 * keystoneauth plugins it selects read no local program, but their URLs
 * are where credentials are sent, so those must be remote.
 */
const FILE_KEYS = new Set(['cacert', 'cert', 'key']);
const PATH_LIKE_KEY = /(?:[-_](?:file|path|dir)|[a-z](?:File|Path))$/i;
const URL_KEY = /(?:^|_)(?:url|endpoint)$/i;

/** What is wrong with a tenant's clouds.yaml, worded to follow the field name; undefined when it may be used. */
export function cloudsYamlProblem(text: string): string | undefined {
  const reading = readYamlDocument(text);
  if ('problem' in reading) return reading.problem;
  if (!isMapping(reading.value) || !isMapping(reading.value.clouds)) return "must be a clouds.yaml: a YAML mapping with a 'clouds' mapping.";

  for (const { key, value, path } of mappingKeys(reading.value)) {
    if (FILE_KEYS.has(key) || PATH_LIKE_KEY.test(key)) {
      return `may not hold ${pathText(path)}: it makes the client read a file on the scanning host. Certificates must be publicly trusted.`;
    }
    if (URL_KEY.test(key) && value !== null) {
      const problem = typeof value === 'string' ? remoteEndpointProblem(value) : 'must be a URL.';
      if (problem) return `has ${pathText(path)} that ${problem}`;
    }
  }
  return undefined;
}
