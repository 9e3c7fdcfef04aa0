import { appendFileSync } from 'node:fs';
import { checkAnswer } from './contract';
import { checkOpenApiAnswer, recordCall } from './openapi-check';
import { STRONG_PASSWORD, uniqueEmail } from './test-app';

export const JSONAPI = 'application/vnd.api+json';

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A thin fetch wrapper: JSON:API headers, optional bearer token, parsed body. */
export class ApiClient {
  constructor(readonly baseUrl: string, readonly token?: string, readonly scheme: 'Bearer' | 'Api-Key' = 'Bearer') {}

  withToken(token: string): ApiClient {
    return new ApiClient(this.baseUrl, token);
  }

  /** Sends `Authorization: Api-Key <key>` instead of a bearer token. */
  withApiKey(key: string): ApiClient {
    return new ApiClient(this.baseUrl, key, 'Api-Key');
  }

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        accept: JSONAPI,
        ...(body !== undefined ? { 'content-type': JSONAPI } : {}),
        ...(this.token ? { authorization: `${this.scheme} ${this.token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text for the assertion message.
    }
    recordCall(method, path);
    holdToContract(method, path, response.status, parsed);
    holdToDocument(method, path, response.status, parsed);
    return { status: response.status, headers: response.headers, body: parsed as T };
  }

  get<T = any>(path: string) {
    return this.request<T>('GET', path);
  }
  post<T = any>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body ?? {});
  }
  patch<T = any>(path: string, body: unknown) {
    return this.request<T>('PATCH', path, body);
  }
  delete<T = any>(path: string, body?: unknown) {
    return this.request<T>('DELETE', path, body);
  }
}

export interface SignedUpUser {
  client: ApiClient;
  userId: string;
  tenantId: string;
  email: string;
  password: string;
  access: string;
  refresh: string;
}

/** Signs up a new user (with their own tenant) and signs in. */
export async function signUp(baseUrl: string, label = 'user'): Promise<SignedUpUser> {
  const anonymous = new ApiClient(baseUrl);
  const email = uniqueEmail(label);
  const created = await anonymous.post('/api/v1/users', {
    data: { type: 'users', attributes: { name: `${label} name`, email, password: STRONG_PASSWORD, company_name: `${label} co` } },
  });
  if (created.status !== 201) throw new Error(`sign-up failed: ${created.status} ${JSON.stringify(created.body)}`);
  const tokens = await signIn(baseUrl, email, STRONG_PASSWORD);
  const me = await new ApiClient(baseUrl, tokens.access).get('/api/v1/users/me');
  const tenantId = JSON.parse(Buffer.from(tokens.access.split('.')[1], 'base64url').toString()).tenant_id as string;
  return { client: new ApiClient(baseUrl, tokens.access), userId: me.body.data.id, tenantId, email, password: STRONG_PASSWORD, ...tokens };
}

export async function signIn(baseUrl: string, email: string, password: string, tenantId?: string): Promise<{ access: string; refresh: string }> {
  const result = await new ApiClient(baseUrl).post('/api/v1/tokens', {
    data: { type: 'tokens', attributes: { email, password, ...(tenantId ? { tenant_id: tenantId } : {}) } },
  });
  if (result.status !== 200) throw new Error(`sign-in failed: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body.data.attributes;
}

/**
 * Every answer the suites receive is checked against Prowler's contract, so an
 * answer that does not match fails the test whose request caused it.
 * CONTRACT_SURVEY_FILE collects the mismatches in a file instead of failing (for surveying).
 */
function holdToContract(method: string, path: string, status: number, body: unknown): void {
  const mismatch = checkAnswer(method, path, status, body);
  if (!mismatch) return;
  const survey = process.env.CONTRACT_SURVEY_FILE;
  if (survey) {
    appendFileSync(survey, `${JSON.stringify(mismatch)}\n`);
    return;
  }
  throw new Error(`${method} ${path} answered ${status}, which does not match Prowler's contract for ${mismatch.operation}:\n  ${mismatch.problems.join('\n  ')}`);
}

/**
 * Every answer is also checked against this API's own OpenAPI document
 * (src/openapi): its status must be documented for the operation and its body
 * must match that status's schema. A mismatch fails the test that caused it.
 */
function holdToDocument(method: string, path: string, status: number, body: unknown): void {
  const mismatch = checkOpenApiAnswer(method, path, status, body);
  if (!mismatch) return;
  throw new Error(`${method} ${path} answered ${status}, which does not match the OpenAPI document for ${mismatch.operation}:\n  ${mismatch.problems.join('\n  ')}`);
}
