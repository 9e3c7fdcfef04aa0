import { hasSqlDetails, parse, scan } from 'libpg-query';
import type { Node, ParseResult, ScanToken } from 'libpg-query';
import { refuse } from './clause-refusal';
import { ClauseRenderer, describe, type Placeholder } from './clause-renderer';
import { type CompiledClause, isTemplateName, TEMPLATE_NAMES } from './compiled-clause';
import { getDataset } from './dataset-catalog';

/*
 * Row filter clauses are untrusted admin input that ends up inside every query
 * on a protected dataset. compileClause (once per rule change) parses a clause
 * with the real PostgreSQL parser, accepts only an allow-listed predicate over
 * the dataset's catalog columns, and re-renders it from the tree, so no byte of
 * the input reaches the database unparsed. bindClause (once per request) only
 * substitutes the table alias and parameter numbers into that rendered text.
 */

const MAX_CLAUSE_LENGTH = 4000;
const WRAP_PREFIX = 'SELECT 1 WHERE (';
// The newline ends a `--` comment before the closing parenthesis, so the
// comment is reported as written.
const WRAP_SUFFIX = '\n)';
const TEMPLATE_PATTERN = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export async function compileClause(clause: string, datasetName: string): Promise<CompiledClause> {
  const dataset = getDataset(datasetName);
  // Callers validate the rule's tables first, so this is a programming error.
  if (!dataset) throw new Error(`compileClause: unknown dataset "${datasetName}"`);

  checkRawText(clause);
  const source = wrapClause(clause);
  const tokens = await scanOrUndefined(source.sql);
  if (tokens) refuseForbiddenTokens(tokens);
  const where = extractWhereClause(await parseOrRefuse(source.sql));
  if (!tokens || !whereSpansWholeClause(tokens, source.sql)) {
    refuse('the clause must be one self-contained expression (check its parentheses)');
  }

  const renderer = new ClauseRenderer(dataset, source.placeholders);
  const root = renderer.render(where);
  if (root.kind !== 'boolean') refuse(`the clause must be a boolean expression, not ${describe(root.sql)}`);
  renderer.assertEveryTemplateUsedAsValue();
  const compiled: CompiledClause = { sql: `(${root.sql})`, params: renderer.templates };
  return root.membership ? { ...compiled, membership: root.membership } : compiled;
}

function checkRawText(clause: string): void {
  if (clause.trim() === '') refuse('the clause is empty');
  if (clause.length > MAX_CLAUSE_LENGTH) refuse(`the clause is longer than ${MAX_CLAUSE_LENGTH} characters`);
  // The parser reads a C string: it would silently stop at a NUL byte.
  if (clause.includes('\0')) refuse('the clause contains a NUL character');
}


interface WrappedClause {
  sql: string;
  /** Keyed by byte offset in sql, the unit the parser reports locations in. */
  placeholders: Map<number, Placeholder>;
}

// Each template becomes a positional parameter; the renderer later accepts a
// parameter only at one of these offsets, so a `$1` typed by the admin is refused.
function wrapClause(clause: string): WrappedClause {
  const placeholders = new Map<number, Placeholder>();
  let sql = WRAP_PREFIX;
  let copied = 0;
  for (const match of clause.matchAll(TEMPLATE_PATTERN)) {
    const name = match[1];
    if (!isTemplateName(name)) {
      refuse(`unknown template ${match[0]} (known: ${TEMPLATE_NAMES.map((n) => `{{ ${n} }}`).join(', ')})`);
    }
    // Spaces keep the parameter from merging with neighbouring tokens.
    sql += `${clause.slice(copied, match.index)} `;
    const number = placeholders.size + 1;
    placeholders.set(Buffer.byteLength(sql), { name, number });
    sql += `$${number} `;
    copied = match.index + match[0].length;
  }
  return { sql: `${sql}${clause.slice(copied)}${WRAP_SUFFIX}`, placeholders };
}

// The scanner fails only on input the parser rejects too, and the parser's
// message is the one worth reporting.
async function scanOrUndefined(sql: string): Promise<ScanToken[] | undefined> {
  try {
    return (await scan(sql)).tokens;
  } catch {
    return undefined;
  }
}

// Checked on tokens so that `--` or `;` inside a string constant is fine.
function refuseForbiddenTokens(tokens: readonly ScanToken[]): void {
  for (const token of tokens) {
    if (token.tokenName === 'SQL_COMMENT' || token.tokenName === 'C_COMMENT') {
      refuse(`comments are not allowed: ${token.text.length > 40 ? `${token.text.slice(0, 37)}...` : token.text}`);
    }
    if (token.text === ';') refuse('statement separators (";") are not allowed');
  }
}

async function parseOrRefuse(sql: string): Promise<ParseResult> {
  try {
    return await parse(sql);
  } catch (error) {
    return refuse(syntaxErrorDetail(error, sql));
  }
}

// Phrased in terms of the clause, not of the wrapper around it.
function syntaxErrorDetail(error: unknown, sql: string): string {
  if (!hasSqlDetails(error)) return `the clause is not valid SQL: ${String(error)}`;
  if (error.message.startsWith('unterminated /* comment')) return 'comments are not allowed: unterminated /* comment';
  // cursorPosition counts characters from 0; the last one is the wrapper's ")".
  const cursor = error.sqlDetails?.cursorPosition ?? -1;
  if (cursor >= sql.length - 1) return 'the clause is not valid SQL: it ends unexpectedly';
  return `the clause is not valid SQL: ${error.message.replace(/\n\)"$/, '"')}`;
}

const WRAPPER_SELECT_FIELDS = new Set(['targetList', 'whereClause', 'limitOption', 'op']);

function extractWhereClause(result: ParseResult): Node {
  if (result.stmts?.length !== 1) refuse('the clause must be a single expression, not several statements');
  const stmt = result.stmts[0].stmt;
  if (!stmt || !('SelectStmt' in stmt)) return refuse('the clause must be a single expression');
  const select = stmt.SelectStmt;
  const extra = Object.keys(select).find((field) => !WRAPPER_SELECT_FIELDS.has(field));
  if (extra || !select.whereClause) refuse('the clause must be a single boolean expression');
  return select.whereClause;
}

// The parenthesis opened by the wrapper must close at the very end: otherwise
// the clause closed it itself (`a = 1) OR (b = 2`) and the WHERE expression is
// not the clause the admin wrote.
function whereSpansWholeClause(tokens: readonly ScanToken[], sql: string): boolean {
  const openAt = Buffer.byteLength(WRAP_PREFIX) - 1;
  const start = tokens.findIndex((token) => token.start === openAt && token.text === '(');
  if (start < 0) return false;
  let depth = 0;
  for (let i = start; i < tokens.length; i++) {
    if (tokens[i].text === '(') depth++;
    if (tokens[i].text === ')') depth--;
    if (depth === 0) return i === tokens.length - 1 && tokens[i].end === Buffer.byteLength(sql);
  }
  return false;
}
