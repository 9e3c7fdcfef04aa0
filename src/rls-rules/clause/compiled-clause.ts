/*
 * The compiled form of a row filter clause and the per-request steps on it.
 * A compiled clause is SQL text the compiler re-rendered from the parse tree,
 * carrying markers instead of the table alias and parameter numbers, so one
 * stored form serves any query, whatever its alias and parameters.
 */

export const TEMPLATE_NAMES = ['current_user_id', 'current_user_email', 'current_tenant_id'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/**
 * sql is canonical SQL that is always enclosed in parentheses, so clauses can
 * be joined with AND/OR as they are. Outside quoted literals it carries two
 * markers, resolved by bindClause: `{col:<column>}` (becomes
 * "<alias>"."<column>") and `{param:<template name>}` (becomes $n). params
 * lists each template the sql uses, once.
 */
export interface CompiledClause {
  sql: string;
  params: TemplateName[];
  /** Present when the whole clause tests one column against literal values (see mergeMemberships). */
  membership?: Membership;
}

/** The clause is `column IN (values)`, each value a rendered SQL literal. */
export interface Membership {
  column: string;
  values: string[];
}

export interface BindOptions {
  tableAlias: string;
  /** Number of parameters the surrounding query already uses. */
  paramOffset: number;
}

/** sql uses $<paramOffset + 1 + i> for params[i]. */
export interface BoundClause {
  sql: string;
  params: TemplateName[];
}

// Quoted literals and identifiers come first in the alternation so that a
// marker-like text inside a string constant is skipped, never substituted.
const MARKER_PATTERN = /'(?:[^']|'')*'|"(?:[^"]|"")*"|\{(col|param):([a-z_]+)\}/g;

export function isTemplateName(name: string): name is TemplateName {
  return (TEMPLATE_NAMES as readonly string[]).includes(name);
}

export const columnMarker = (column: string): string => `{col:${column}}`;
export const paramMarker = (name: TemplateName): string => `{param:${name}}`;

export function bindClause(compiled: CompiledClause, { tableAlias, paramOffset }: BindOptions): BoundClause {
  if (!Number.isInteger(paramOffset) || paramOffset < 0) {
    throw new RangeError('bindClause: paramOffset must be a non-negative integer');
  }
  const table = `${quoteIdentifier(tableAlias)}.`;
  const sql = substituteMarkers(
    compiled.sql,
    (column) => table + quoteIdentifier(column),
    (name) => {
      const index = compiled.params.indexOf(name);
      if (index < 0) throw new Error(`bindClause: template ${name} is used but not listed in params`);
      return `$${paramOffset + index + 1}`;
    },
  );
  return { sql, params: [...compiled.params] };
}

/** Joins compiled clauses with AND or OR; the result is again a CompiledClause. */
export function joinClauses(clauses: readonly CompiledClause[], operator: 'AND' | 'OR'): CompiledClause {
  if (clauses.length === 0) throw new RangeError('joinClauses needs at least one clause');
  if (clauses.length === 1) return clauses[0];
  return {
    sql: `(${clauses.map((clause) => clause.sql).join(` ${operator} `)})`,
    params: [...new Set(clauses.flatMap((clause) => clause.params))],
  };
}

/**
 * Clauses ORed together that each test the same column against literal
 * values become one `column IN (...)` test in place of the first of them:
 * the same rows (for non-NULL literals, `a = x OR a = y` and `a IN (x, y)`
 * agree in three-valued logic), but PostgreSQL evaluates one list lookup,
 * hashed from nine values on, per row instead of one comparison per clause.
 * The typical group of rules granting one region or account each is such a set.
 */
export function mergeMemberships(clauses: readonly CompiledClause[]): CompiledClause[] {
  const merged: CompiledClause[] = [];
  const firstByColumn = new Map<string, { index: number; values: Set<string>; count: number }>();
  for (const clause of clauses) {
    const membership = clause.membership;
    const first = membership ? firstByColumn.get(membership.column) : undefined;
    if (!membership) merged.push(clause);
    else if (first) {
      membership.values.forEach((value) => first.values.add(value));
      first.count++;
    } else {
      firstByColumn.set(membership.column, { index: merged.length, values: new Set(membership.values), count: 1 });
      merged.push(clause);
    }
  }
  for (const [column, { index, values, count }] of firstByColumn) {
    if (count > 1) merged[index] = membershipClause(column, [...values]);
  }
  return merged;
}

function membershipClause(column: string, values: string[]): CompiledClause {
  return { sql: `(${columnMarker(column)} IN (${values.join(', ')}))`, params: [], membership: { column, values } };
}

/** The clause as an admin would write it: bare column names and {{ template }} placeholders. */
export function displayClause(sql: string): string {
  return substituteMarkers(sql, (column) => column, (name) => `{{ ${name} }}`);
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function substituteMarkers(
  sql: string,
  column: (name: string) => string,
  param: (name: TemplateName) => string,
): string {
  return sql.replace(MARKER_PATTERN, (match: string, marker: string | undefined, name: string) => {
    if (marker === 'col') return column(name);
    if (marker === 'param') return param(name as TemplateName);
    return match;
  });
}
