import { parse as parseYaml, YAMLParseError } from 'yaml';

/** One check's entry under an account: what it mutes, and what is excepted from that. */
export interface MutelistCheckEntry {
  Regions: string[];
  Resources: string[];
  Tags?: string[];
  Exceptions?: { Accounts?: string[]; Regions?: string[]; Resources?: string[]; Tags?: string[] };
  Description?: string;
}

/** Prowler's Mutelist: accounts ("*" for any) → checks (names or patterns) → entries. */
export interface MutelistDocument {
  Accounts: Record<string, { Checks: Record<string, MutelistCheckEntry> }>;
}

/** A processor's stored configuration for the mutelist type. */
export interface MutelistConfiguration {
  Mutelist: MutelistDocument;
}

/** A configuration that is not a Mutelist: `pointer` is the JSON pointer of the first problem, relative to the configuration. */
export class MutelistFormatError extends Error {
  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(message);
  }
}

const ENTRY_LISTS = ['Regions', 'Resources', 'Tags'] as const;
const EXCEPTION_LISTS = ['Accounts', 'Regions', 'Resources', 'Tags'] as const;

/**
 * A configuration as written: YAML text (JSON is YAML too) or an object
 * already parsed, checked against Prowler's Mutelist shape, with each
 * pattern compiled once to prove it is a regular expression. Prowler's schema
 * rejects unknown members at every level; so does this.
 */
export function readMutelistConfiguration(input: unknown): MutelistConfiguration {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = parseYaml(input, { maxAliasCount: 100 });
    } catch (error) {
      const where = error instanceof YAMLParseError && error.linePos ? ` (line ${error.linePos[0].line}, column ${error.linePos[0].col})` : '';
      throw new MutelistFormatError('', `The configuration is neither valid YAML nor JSON${where}.`);
    }
  }
  const root = object(value, '');
  onlyMembers(root, ['Mutelist'], '');
  if (root.Mutelist === undefined || root.Mutelist === null) throw new MutelistFormatError('', "'Mutelist' is a required property.");
  const mutelist = object(root.Mutelist, '/Mutelist');
  onlyMembers(mutelist, ['Accounts'], '/Mutelist');
  if (mutelist.Accounts === undefined) throw new MutelistFormatError('/Mutelist', "'Accounts' is a required property.");
  const accounts = object(mutelist.Accounts, '/Mutelist/Accounts');
  for (const [account, accountValue] of Object.entries(accounts)) {
    const accountPath = `/Mutelist/Accounts/${escapePointer(account)}`;
    storable(account, accountPath);
    const accountEntry = object(accountValue, accountPath);
    onlyMembers(accountEntry, ['Checks'], accountPath);
    if (accountEntry.Checks === undefined) throw new MutelistFormatError(accountPath, "'Checks' is a required property.");
    const checks = object(accountEntry.Checks, `${accountPath}/Checks`);
    for (const [check, checkValue] of Object.entries(checks)) {
      const checkPath = `${accountPath}/Checks/${escapePointer(check)}`;
      pattern(check, checkPath);
      const entry = object(checkValue, checkPath);
      onlyMembers(entry, [...ENTRY_LISTS, 'Exceptions', 'Description'], checkPath);
      for (const required of ['Regions', 'Resources']) {
        if (entry[required] === undefined) throw new MutelistFormatError(checkPath, `'${required}' is a required property.`);
      }
      for (const list of ENTRY_LISTS) if (entry[list] !== undefined) patterns(entry[list], `${checkPath}/${list}`);
      if (entry.Description !== undefined) {
        if (typeof entry.Description !== 'string') throw new MutelistFormatError(`${checkPath}/Description`, 'Must be a string.');
        storable(entry.Description, `${checkPath}/Description`);
      }
      if (entry.Exceptions !== undefined) {
        const exceptions = object(entry.Exceptions, `${checkPath}/Exceptions`);
        onlyMembers(exceptions, [...EXCEPTION_LISTS], `${checkPath}/Exceptions`);
        for (const list of EXCEPTION_LISTS) if (exceptions[list] !== undefined) patterns(exceptions[list], `${checkPath}/Exceptions/${list}`);
      }
    }
  }
  return value as MutelistConfiguration;
}

/**
 * A Mutelist pattern as Prowler reads it: "*" stands for ".*", and the rest
 * is a regular expression searched anywhere in the value (not anchored).
 */
export function patternRegExp(text: string): RegExp {
  return new RegExp(text.replaceAll('*', '.*'));
}

function object(value: unknown, pointer: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MutelistFormatError(pointer, 'Must be an object.');
  return value as Record<string, unknown>;
}

function onlyMembers(value: Record<string, unknown>, allowed: readonly string[], pointer: string): void {
  const extra = Object.keys(value).find((key) => !allowed.includes(key));
  if (extra !== undefined) {
    throw new MutelistFormatError(`${pointer}/${escapePointer(extra)}`, `Unknown member '${extra}'; allowed here: ${allowed.join(', ')}.`);
  }
}

function patterns(value: unknown, pointer: string): void {
  if (!Array.isArray(value)) throw new MutelistFormatError(pointer, 'Must be a list of strings.');
  value.forEach((item, index) => {
    if (typeof item !== 'string') throw new MutelistFormatError(`${pointer}/${index}`, 'Must be a string.');
    pattern(item, `${pointer}/${index}`);
  });
}

function pattern(text: string, pointer: string): void {
  storable(text, pointer);
  try {
    patternRegExp(text);
  } catch (error) {
    throw new MutelistFormatError(pointer, `'${text}' is not a valid regular expression: ${(error as Error).message}.`);
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Text PostgreSQL can keep in JSON: no NUL, no lone UTF-16 surrogate. Request
 * bodies are checked for both already, but YAML escapes ("\0") make them anew.
 */
function storable(text: string, pointer: string): void {
  if (text.includes('\u0000') || LONE_SURROGATE.test(text)) throw new MutelistFormatError(pointer, 'Holds a character that cannot be stored (NUL or a lone surrogate).');
}

/** RFC 6901: "~" and "/" in a member name. */
function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
