import { remoteEndpointProblem } from './remote-endpoint';
import { isMapping, mappingKeys, pathText, readYamlDocument } from './yaml-document';

/**
 * Keys with which a kubeconfig makes the Kubernetes client run a program
 * (`exec`, the `auth-provider` plugins and their `cmd-path`) or read a file
 * on the scanning host (the path forms of certificates and keys, token
 * files). Any of them, at any depth, refuses the file.
 */
const FORBIDDEN_KEYS = new Set(['exec', 'auth-provider', 'cmd-path', 'client-certificate', 'client-key', 'certificate-authority', 'tokenFile', 'token-file']);
/** Other spellings of a local file or path: `*-file`, `*_file`, `*File`, `*-path`, `*Path`. */
const PATH_LIKE_KEY = /(?:[-_](?:file|path)|[a-z](?:File|Path))$/i;

/**
 * What a user entry may hold: inline credentials only. Listed rather than
 * screened, because new client versions add new ways to authenticate.
 */
const USER_FIELDS = new Set([
  'token',
  'username',
  'password',
  'client-certificate-data',
  'client-key-data',
  'as',
  'as-uid',
  'as-groups',
  'as-user-extra',
  'extensions',
]);

/**
 * What is wrong with a kubeconfig a tenant sent, worded to follow the field
 * name; undefined when Prowler may be given it. The file reaches the
 * Kubernetes client inside Prowler as KUBECONFIG, on the worker's host.
 */
export function kubeconfigProblem(text: string): string | undefined {
  const reading = readYamlDocument(text);
  if ('problem' in reading) return reading.problem;
  if (!isMapping(reading.value)) return 'must be a kubeconfig: a YAML mapping with clusters, contexts and users.';

  for (const { key, value, path } of mappingKeys(reading.value)) {
    if (FORBIDDEN_KEYS.has(key) || PATH_LIKE_KEY.test(key)) {
      return `may not hold ${pathText(path)}: it makes the client run a command or read a file on the scanning host. Send credentials inline (token, client-certificate-data, client-key-data, certificate-authority-data).`;
    }
    const [section, index, entry] = path;
    if (section === 'users' && typeof index === 'number' && entry === 'user' && path.length === 4 && !USER_FIELDS.has(key)) {
      return `may not hold ${pathText(path)}: a user may have only ${[...USER_FIELDS].join(', ')}.`;
    }
    if (section === 'clusters' && typeof index === 'number' && entry === 'cluster' && path.length === 4 && (key === 'server' || key === 'proxy-url')) {
      const problem = typeof value === 'string' ? remoteEndpointProblem(value, key === 'server' ? ['https:'] : ['https:', 'http:', 'socks5:']) : 'must be a URL.';
      if (problem) return `has ${pathText(path)} that ${problem}`;
    }
  }
  return undefined;
}
