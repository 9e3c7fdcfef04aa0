import { MutelistCheckEntry, MutelistDocument, patternRegExp } from './mutelist-document';

/** What a Mutelist looks at in a finding, as Prowler reads it. */
export interface MutelistFinding {
  /** The audited account: the provider's uid (cloud.account.uid). */
  account: string;
  checkId: string;
  region: string;
  /** The finding's resource uid. */
  resource: string;
  /** The resource's tags, as unrollTags writes them; read only when an entry lists tags, so it may be a getter. */
  readonly tags: string;
}

/** The reason a finding the Mutelist mutes is stored with, Prowler's own words. */
export const MUTELIST_REASON = 'Muted by mutelist';

interface CompiledEntry {
  check: RegExp;
  regions: RegExp[];
  resources: RegExp[];
  /** Every one must be found; none listed matches any finding. */
  tags: RegExp[];
  exceptions: CompiledExceptions | null;
}

interface CompiledExceptions {
  accounts: RegExp[];
  regions: RegExp[];
  resources: RegExp[];
  tags: RegExp[];
}

interface CompiledAccount {
  key: string;
  entries: CompiledEntry[];
  /** Entries whose check pattern matches a check id, in declared order: worked out once per check id a scan has. */
  byCheck: Map<string, CompiledEntry[]>;
}

/**
 * A Mutelist compiled once (every pattern a RegExp), to be asked about many
 * findings. Prowler's rules:
 * - an account key is the account itself or "*"; every key that applies is
 *   tried, and any that mutes the finding mutes it;
 * - under an account, a check key matches the check id by equality or as a
 *   pattern ("*" is ".*", searched anywhere; "lambda…" means "awslambda…");
 * - an entry mutes when one of its Regions and one of its Resources match and
 *   every one of its Tags matches the tags unrolled as "key=value | …";
 * - Exceptions: when every list it has matches (and one at least), the
 *   finding is excepted, and that stops the account's remaining entries too.
 * Finding what entries a check id has is remembered per check id, so the cost
 * per finding is that of the few entries of its own check.
 */
export class CompiledMutelist {
  private readonly accounts: CompiledAccount[];

  constructor(document: MutelistDocument) {
    this.accounts = Object.entries(document.Accounts ?? {}).map(([key, account]) => ({
      key,
      entries: Object.entries(account.Checks ?? {}).map(([check, entry]) => compileEntry(check, entry)),
      byCheck: new Map(),
    }));
  }

  get entryCount(): number {
    return this.accounts.reduce((sum, account) => sum + account.entries.length, 0);
  }

  mutes(finding: MutelistFinding): boolean {
    for (const account of this.accounts) {
      if (account.key !== finding.account && account.key !== '*') continue;
      if (mutedUnder(entriesFor(account, finding.checkId), finding)) return true;
    }
    return false;
  }
}

function compileEntry(check: string, entry: MutelistCheckEntry): CompiledEntry {
  const exceptions = entry.Exceptions;
  const hasExceptions = exceptions && Object.keys(exceptions).length > 0;
  return {
    check: patternRegExp(check.replace(/^lambda/, 'awslambda')),
    regions: compileAll(entry.Regions),
    resources: compileAll(entry.Resources),
    tags: compileAll(entry.Tags),
    exceptions: hasExceptions
      ? { accounts: compileAll(exceptions.Accounts), regions: compileAll(exceptions.Regions), resources: compileAll(exceptions.Resources), tags: compileAll(exceptions.Tags) }
      : null,
  };
}

function compileAll(patterns: readonly string[] | undefined | null): RegExp[] {
  return (patterns ?? []).map(patternRegExp);
}

function entriesFor(account: CompiledAccount, checkId: string): CompiledEntry[] {
  let entries = account.byCheck.get(checkId);
  if (!entries) {
    // A check key equal to the id is also a pattern that finds it, so one test covers both of Prowler's ways.
    entries = account.entries.filter((entry) => entry.check.test(checkId));
    account.byCheck.set(checkId, entries);
  }
  return entries;
}

function mutedUnder(entries: readonly CompiledEntry[], finding: MutelistFinding): boolean {
  let muted = false;
  for (const entry of entries) {
    if (entry.exceptions && excepted(entry.exceptions, finding)) break;
    if (anyMatches(entry.regions, finding.region) && anyMatches(entry.resources, finding.resource) && allMatch(entry.tags, finding.tags)) muted = true;
  }
  return muted;
}

/**
 * Excepted when every list the exceptions have matches (one list at least):
 * Prowler's rule, asked list by list so the first one that fails ends it and
 * the tags, the dearest to read, come last.
 */
function excepted(exceptions: CompiledExceptions, finding: MutelistFinding): boolean {
  const { accounts, regions, resources, tags } = exceptions;
  if (accounts.length + regions.length + resources.length + tags.length === 0) return false;
  return (
    (accounts.length === 0 || anyMatches(accounts, finding.account)) &&
    (regions.length === 0 || anyMatches(regions, finding.region)) &&
    (resources.length === 0 || anyMatches(resources, finding.resource)) &&
    (tags.length === 0 || allMatch(tags, finding.tags))
  );
}

// Plain loops: these run for every entry of every finding, and some()/every() took a new closure each time.
function anyMatches(patterns: readonly RegExp[], value: string): boolean {
  for (let i = 0; i < patterns.length; i++) if (patterns[i].test(value)) return true;
  return false;
}

function allMatch(patterns: readonly RegExp[], value: string): boolean {
  for (let i = 0; i < patterns.length; i++) if (!patterns[i].test(value)) return false;
  return true;
}

/** Tags as Prowler hands them to its Mutelist: "key=value" pairs joined by " | ", here in key order so every path writes them alike. */
export function unrollTags(tags: Readonly<Record<string, string>> | null | undefined): string {
  return Object.keys(tags ?? {})
    .sort()
    .map((key) => `${key}=${tags![key]}`)
    .join(' | ');
}
