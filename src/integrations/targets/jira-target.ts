import { IntegrationsConfig } from '../../config/app-config';
import { IntegrationRefusedError } from '../integration-errors';
import { jiraBaseUrl, JiraCredentials } from '../integration-types';
import { requestJson } from './http-target';

/** A finding as a Jira issue shows it: Prowler's fields that this API stores. */
export interface JiraFinding {
  check_id: string;
  check_title: string;
  severity: string;
  status: string;
  status_extended: string | null;
  provider: string;
  region: string;
  resource_uid: string;
  resource_name: string;
  compliance: Record<string, string[]>;
}

/** A Jira Cloud site through its REST API v3, with basic auth (the account's email and an API token). */
export class JiraTarget {
  private readonly baseUrl: string;
  private readonly authorization: string;

  constructor(
    credentials: JiraCredentials,
    private readonly config: IntegrationsConfig,
  ) {
    const base = jiraBaseUrl(credentials.domain, config.allowLocalTargets);
    if (!base.url) throw new IntegrationRefusedError(`The Jira domain ${base.problem}`);
    this.baseUrl = base.url;
    this.authorization = `Basic ${Buffer.from(`${credentials.user_mail}:${credentials.api_token}`).toString('base64')}`;
  }

  /** The projects the account can see, key to name: what the connection check stores. */
  async projects(signal: AbortSignal): Promise<Record<string, string>> {
    const answer = await this.get<Array<{ key?: string; name?: string }>>('/rest/api/3/project', signal);
    const projects: Record<string, string> = {};
    for (const project of Array.isArray(answer) ? answer : []) {
      if (typeof project.key === 'string') projects[project.key] = typeof project.name === 'string' ? project.name : project.key;
    }
    return projects;
  }

  /** The names of the issue types a project accepts. */
  async issueTypes(projectKey: string, signal: AbortSignal): Promise<string[]> {
    const answer = await this.get<{ issueTypes?: Array<{ name?: string }>; values?: Array<{ name?: string }> }>(
      `/rest/api/3/issue/createmeta/${encodeURIComponent(projectKey)}/issuetypes`,
      signal,
    );
    return (answer.issueTypes ?? answer.values ?? []).map((type) => type.name).filter((name): name is string => typeof name === 'string');
  }

  /** Creates one issue for the finding; answers its key (e.g. SEC-12). */
  async createIssue(projectKey: string, issueType: string, finding: JiraFinding, signal: AbortSignal): Promise<string> {
    const answer = await requestJson<{ key?: string }>(
      `${this.baseUrl}/rest/api/3/issue`,
      {
        method: 'POST',
        headers: this.headers(),
        body: JSON.stringify({
          fields: { project: { key: projectKey }, issuetype: { name: issueType }, summary: issueSummary(finding), description: issueDescription(finding) },
        }),
      },
      { name: 'Jira', timeoutMs: this.config.requestTimeoutMs, signal },
    );
    return answer.key ?? '';
  }

  private get<T>(path: string, signal: AbortSignal): Promise<T> {
    return requestJson<T>(`${this.baseUrl}${path}`, { method: 'GET', headers: this.headers() }, { name: 'Jira', timeoutMs: this.config.requestTimeoutMs, signal });
  }

  private headers(): Record<string, string> {
    return { authorization: this.authorization, accept: 'application/json', 'content-type': 'application/json' };
  }
}

/** Prowler's summary: "[Prowler] SEVERITY - check - resource", on one line, at most Jira's 255 characters. */
export function issueSummary(finding: JiraFinding): string {
  const parts = [finding.severity.toUpperCase(), finding.check_id, finding.resource_uid].filter(Boolean);
  return `[Prowler] ${parts.join(' - ')}`.split(/\s+/).join(' ').slice(0, 255);
}

type AdfNode = Record<string, unknown>;

const text = (value: string, marks?: AdfNode[]): AdfNode => ({ type: 'text', text: value, ...(marks ? { marks } : {}) });
const strong = [{ type: 'strong' }];

function row(label: string, value: string): AdfNode {
  const cell = (type: string, content: AdfNode[]) => ({ type, content: [{ type: 'paragraph', content }] });
  return { type: 'tableRow', content: [cell('tableHeader', [text(label, strong)]), cell('tableCell', value ? [text(value)] : [])] };
}

/** The issue's description in Atlassian Document Format: a table of the finding's fields, as Prowler's issues have. */
export function issueDescription(finding: JiraFinding): AdfNode {
  const compliance = Object.entries(finding.compliance ?? {}).map(([framework, requirements]) => `${framework}: ${requirements.join(', ')}`).join('\n');
  return {
    type: 'doc',
    version: 1,
    content: [
      { type: 'paragraph', content: [text('Prowler has discovered the following finding:')] },
      {
        type: 'table',
        attrs: { isNumberColumnEnabled: false, layout: 'default' },
        content: [
          row('Check Id', finding.check_id),
          row('Check Title', finding.check_title),
          row('Severity', finding.severity.toUpperCase()),
          row('Status', finding.status),
          row('Status Extended', finding.status_extended ?? ''),
          row('Provider', finding.provider),
          row('Region', finding.region),
          row('Resource UID', finding.resource_uid),
          row('Resource Name', finding.resource_name),
          row('Compliance', compliance),
        ],
      },
    ],
  };
}
