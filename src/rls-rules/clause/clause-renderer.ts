/*
 * The tree walk behind compileClause: each allowed node type is re-rendered as
 * canonical SQL with a coarse value kind, and everything else is refused.
 */
import type {
  A_Const,
  A_Expr,
  BoolExpr,
  BooleanTest,
  CoalesceExpr,
  ColumnRef,
  FuncCall,
  Node,
  NullTest,
  ParamRef,
  TypeCast,
  TypeName,
} from 'libpg-query';
import { refuse } from './clause-refusal';
import { columnMarker, displayClause, type Membership, paramMarker, type TemplateName } from './compiled-clause';
import type { ColumnType, Dataset } from './dataset-catalog';

// Maps rather than object literals throughout: a parsed name such as
// "constructor" must never hit an inherited property.
const COMPARISON_OPERATORS = new Set(['=', '<>', '<', '<=', '>', '>=']);
const LIKE_OPERATORS = new Map([
  ['~~', 'LIKE'],
  ['!~~', 'NOT LIKE'],
  ['~~*', 'ILIKE'],
  ['!~~*', 'NOT ILIKE'],
]);
const BOOLEAN_TESTS = new Map([
  ['IS_TRUE', 'IS TRUE'],
  ['IS_NOT_TRUE', 'IS NOT TRUE'],
  ['IS_FALSE', 'IS FALSE'],
  ['IS_NOT_FALSE', 'IS NOT FALSE'],
]);
const REFUSED_A_EXPR_KINDS = new Map([
  ['AEXPR_OP_ANY', 'ANY (...)'],
  ['AEXPR_OP_ALL', 'ALL (...)'],
  ['AEXPR_DISTINCT', 'IS DISTINCT FROM'],
  ['AEXPR_NOT_DISTINCT', 'IS NOT DISTINCT FROM'],
  ['AEXPR_SIMILAR', 'SIMILAR TO'],
  ['AEXPR_BETWEEN_SYM', 'BETWEEN SYMMETRIC'],
  ['AEXPR_NOT_BETWEEN_SYM', 'NOT BETWEEN SYMMETRIC'],
]);
const REFUSED_NODES = new Map([
  ['SubLink', 'subqueries (SELECT, EXISTS, IN (SELECT ...))'],
  ['RowExpr', 'row constructors'],
  ['A_ArrayExpr', 'arrays'],
  ['A_Indirection', 'subscripts and field selection'],
  ['CaseExpr', 'CASE expressions'],
  ['CollateClause', 'COLLATE'],
  ['NamedArgExpr', 'named function arguments'],
  ['SQLValueFunction', 'CURRENT_USER, CURRENT_DATE and similar functions'],
  ['MinMaxExpr', 'GREATEST and LEAST'],
]);
const SYSTEM_COLUMNS = new Set(['ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid']);

// Coarse value types, enough to refuse clauses PostgreSQL would reject on every
// request (a text column in a boolean position, lower() of an integer, ...).
// 'unknown' is a NULL or a string constant, which PostgreSQL types from their
// context. 'id' is an id template: typed from context too, but always a uuid,
// so it only fits uuid and text.
type Kind = 'boolean' | 'text' | 'number' | 'uuid' | 'timestamp' | 'id' | 'unknown';

const TEMPLATE_KINDS: Record<TemplateName, Kind> = {
  current_user_id: 'id',
  current_tenant_id: 'id',
  current_user_email: 'text',
};

const COLUMN_KINDS: Record<ColumnType, Kind> = {
  text: 'text',
  uuid: 'uuid',
  timestamptz: 'timestamp',
  boolean: 'boolean',
  integer: 'number',
};
// Keyed by the name the parser produces (`int` arrives as int4, `boolean` as bool).
const CAST_TARGETS = new Map<string, Kind>([
  ['text', 'text'],
  ['varchar', 'text'],
  ['int4', 'number'],
  ['int8', 'number'],
  ['numeric', 'number'],
  ['bool', 'boolean'],
  ['date', 'timestamp'],
  ['timestamptz', 'timestamp'],
  ['uuid', 'uuid'],
]);
const CAST_TARGETS_HELP = 'text, varchar, int, integer, bigint, numeric, boolean, date, timestamptz, uuid';

interface FunctionSpec {
  argKind: Kind;
  resultKind: Kind;
  maxArgs: number;
}
const TEXT_TO_TEXT: FunctionSpec = { argKind: 'text', resultKind: 'text', maxArgs: 1 };
const FUNCTIONS = new Map<string, FunctionSpec>([
  ['lower', TEXT_TO_TEXT],
  ['upper', TEXT_TO_TEXT],
  ['length', { argKind: 'text', resultKind: 'number', maxArgs: 1 }],
  ['abs', { argKind: 'number', resultKind: 'number', maxArgs: 1 }],
]);
// TRIM(...) is SQL syntax that the parser turns into one of these (the second
// argument being the characters to strip); a direct btrim(...) call is refused.
const TRIM_SPEC: FunctionSpec = { argKind: 'text', resultKind: 'text', maxArgs: 2 };
const TRIM_FUNCTIONS = new Map([
  ['btrim', TRIM_SPEC],
  ['ltrim', TRIM_SPEC],
  ['rtrim', TRIM_SPEC],
]);
const FUNCTIONS_HELP = 'lower, upper, coalesce, nullif, trim, length, abs';

const NUMERIC_CONSTANT = /^-?(?:(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?|0[xX][\dA-Fa-f_]+|0[oO][0-7_]+|0[bB][01_]+)$/;

// A backslash switches to the E'' form with backslashes doubled, which reads
// the same whatever standard_conforming_strings is set to.
function quoteLiteral(value: string): string {
  const quoted = value.replace(/'/g, "''");
  return value.includes('\\') ? `E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}

/** The rendered form of a node, readable in an error message. */
export function describe(sql: string): string {
  const text = displayClause(sql);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export interface Placeholder {
  name: TemplateName;
  number: number;
}

interface Rendered {
  sql: string;
  kind: Kind;
  /** Needs parentheses when used as an operand. */
  compound: boolean;
  /** Set for a bare column reference. */
  column?: string;
  /** A literal value (not NULL). */
  constant?: boolean;
  membership?: Membership;
}

const atom = (sql: string, kind: Kind): Rendered => ({ sql, kind, compound: false });
const literal = (sql: string, kind: Kind): Rendered => ({ sql, kind, compound: false, constant: true });

/** `column = value` or `column IN (values)` with literal values only: a test the combiner may merge with others on the column. */
function membershipOf(column: Rendered, values: readonly Rendered[]): Membership | undefined {
  if (!column.column || !values.every((value) => value.constant)) return undefined;
  return { column: column.column, values: values.map((value) => value.sql) };
}
const predicate = (sql: string): Rendered => ({ sql, kind: 'boolean', compound: true });
const operandSql = (rendered: Rendered): string => (rendered.compound ? `(${rendered.sql})` : rendered.sql);
const ID_COMPATIBLE = new Set<Kind>(['id', 'text', 'uuid']);
const comparable = (a: Kind, b: Kind): boolean =>
  a === b ||
  a === 'unknown' ||
  b === 'unknown' ||
  (a === 'id' && ID_COMPATIBLE.has(b)) ||
  (b === 'id' && ID_COMPATIBLE.has(a));
// Text converts to and from every allowed type (a bad value fails per row, as
// any constant would); other conversions between kinds do not exist.
const castable = (from: Kind, to: Kind): boolean => from === 'text' || to === 'text' || comparable(from, to);

/**
 * Walks the parse tree, default deny: a node type, node field, operator,
 * function or type that is not handled below is refused.
 */
export class ClauseRenderer {
  readonly templates: TemplateName[] = [];
  private readonly usedPlaceholders = new Set<number>();

  constructor(
    private readonly dataset: Dataset,
    private readonly placeholders: ReadonlyMap<number, Placeholder>,
  ) {}

  render(node: Node): Rendered {
    if ('BoolExpr' in node) return this.renderBoolExpr(node.BoolExpr);
    if ('A_Expr' in node) return this.renderAExpr(node.A_Expr);
    if ('NullTest' in node) return this.renderNullTest(node.NullTest);
    if ('BooleanTest' in node) return this.renderBooleanTest(node.BooleanTest);
    if ('A_Const' in node) return this.renderConstant(node.A_Const);
    if ('ColumnRef' in node) return this.renderColumn(node.ColumnRef);
    if ('ParamRef' in node) return this.renderTemplate(node.ParamRef);
    if ('TypeCast' in node) return this.renderCast(node.TypeCast);
    if ('FuncCall' in node) return this.renderFunction(node.FuncCall);
    if ('CoalesceExpr' in node) return this.renderCoalesce(node.CoalesceExpr);
    const type = Object.keys(node)[0] ?? 'empty node';
    return refuse(`the clause may not use ${REFUSED_NODES.get(type) ?? `${type} nodes`}`);
  }

  assertEveryTemplateUsedAsValue(): void {
    for (const [location, { name }] of this.placeholders) {
      if (!this.usedPlaceholders.has(location)) {
        refuse(`the template {{ ${name} }} must stand where a value is expected, not inside quotes`);
      }
    }
  }

  private renderBoolean(node: Node | undefined, role: string): Rendered {
    const rendered = this.render(required(node));
    if (rendered.kind !== 'boolean') refuse(`${role} must be a boolean expression, not ${describe(rendered.sql)}`);
    return rendered;
  }

  private renderOperand(node: Node | undefined): Rendered {
    return this.render(required(node));
  }

  private renderBoolExpr(expr: BoolExpr): Rendered {
    allowFields(expr, ['boolop', 'args', 'location'], 'boolean expression');
    const operator = expr.boolop === 'NOT_EXPR' ? 'NOT' : expr.boolop === 'OR_EXPR' ? 'OR' : 'AND';
    const args = (expr.args ?? []).map((arg) => this.renderBoolean(arg, `the operand of ${operator}`));
    if (operator === 'NOT') {
      if (args.length !== 1) refuse('NOT takes exactly one operand');
      return predicate(`NOT ${operandSql(args[0])}`);
    }
    if (args.length < 2) refuse(`${operator} needs two operands`);
    return predicate(args.map(operandSql).join(` ${operator} `));
  }

  private renderAExpr(expr: A_Expr): Rendered {
    allowFields(expr, ['kind', 'name', 'lexpr', 'rexpr', 'rexpr_list_start', 'rexpr_list_end', 'location'], 'operator');
    const kind = expr.kind ?? 'AEXPR_OP';
    const refused = REFUSED_A_EXPR_KINDS.get(kind);
    if (refused) refuse(`${refused} is not allowed`);
    const operator = operatorName(expr.name);
    if (kind === 'AEXPR_OP' && !COMPARISON_OPERATORS.has(operator)) {
      refuse(`the operator ${operator} is not allowed (allowed: =, <>, !=, <, <=, >, >=)`);
    }
    const left = this.renderOperand(expr.lexpr);

    switch (kind) {
      case 'AEXPR_OP': {
        const right = this.renderOperand(expr.rexpr);
        assertComparable(left, right, operator);
        const rendered = predicate(`${operandSql(left)} ${operator} ${operandSql(right)}`);
        if (operator !== '=') return rendered;
        return { ...rendered, membership: membershipOf(left, [right]) ?? membershipOf(right, [left]) };
      }
      case 'AEXPR_IN': {
        const items = listItems(expr.rexpr, 'IN').map((item) => this.renderOperand(item));
        items.forEach((item) => assertComparable(left, item, 'IN'));
        const keyword = operator === '<>' ? 'NOT IN' : 'IN';
        const rendered = predicate(`${operandSql(left)} ${keyword} (${items.map(operandSql).join(', ')})`);
        return keyword === 'IN' ? { ...rendered, membership: membershipOf(left, items) } : rendered;
      }
      case 'AEXPR_BETWEEN':
      case 'AEXPR_NOT_BETWEEN': {
        const keyword = kind === 'AEXPR_BETWEEN' ? 'BETWEEN' : 'NOT BETWEEN';
        const bounds = listItems(expr.rexpr, keyword).map((item) => this.renderOperand(item));
        if (bounds.length !== 2) refuse(`${keyword} needs exactly two bounds`);
        bounds.forEach((bound) => assertComparable(left, bound, keyword));
        return predicate(`${operandSql(left)} ${keyword} ${operandSql(bounds[0])} AND ${operandSql(bounds[1])}`);
      }
      case 'AEXPR_LIKE':
      case 'AEXPR_ILIKE': {
        const keyword = LIKE_OPERATORS.get(operator);
        if (!keyword) refuse(`the pattern operator ${operator} is not allowed`);
        const pattern = this.renderOperand(expr.rexpr);
        assertKind(left, 'text', keyword);
        assertKind(pattern, 'text', keyword);
        return predicate(`${operandSql(left)} ${keyword} ${operandSql(pattern)}`);
      }
      case 'AEXPR_NULLIF': {
        const right = this.renderOperand(expr.rexpr);
        assertComparable(left, right, 'NULLIF');
        return atom(`NULLIF(${left.sql}, ${right.sql})`, left.kind);
      }
      default:
        return refuse(`the expression kind ${kind} is not allowed`);
    }
  }

  private renderNullTest(test: NullTest): Rendered {
    allowFields(test, ['arg', 'nulltesttype', 'location'], 'IS NULL test');
    const keyword = test.nulltesttype === 'IS_NOT_NULL' ? 'IS NOT NULL' : 'IS NULL';
    return predicate(`${operandSql(this.renderOperand(test.arg))} ${keyword}`);
  }

  private renderBooleanTest(test: BooleanTest): Rendered {
    allowFields(test, ['arg', 'booltesttype', 'location'], 'boolean test');
    const keyword = BOOLEAN_TESTS.get(test.booltesttype ?? '');
    if (!keyword) refuse('IS [NOT] UNKNOWN is not allowed; use IS [NOT] NULL');
    return predicate(`${operandSql(this.renderBoolean(test.arg, `the operand of ${keyword}`))} ${keyword}`);
  }

  // Protobuf JSON leaves out zero values, hence `ival: {}` for 0 and
  // `boolval: {}` for false.
  private renderConstant(constant: A_Const): Rendered {
    allowFields(constant, ['ival', 'fval', 'boolval', 'sval', 'bsval', 'isnull', 'location'], 'constant');
    if (constant.isnull) return atom('NULL', 'unknown');
    if (constant.boolval) return literal(constant.boolval.boolval ? 'TRUE' : 'FALSE', 'boolean');
    if (constant.ival) return literal(String(constant.ival.ival ?? 0), 'number');
    if (constant.fval) {
      const text = constant.fval.fval ?? '';
      if (!NUMERIC_CONSTANT.test(text)) refuse(`the numeric constant ${text} is not allowed`);
      return literal(text, 'number');
    }
    if (constant.sval) return literal(quoteLiteral(constant.sval.sval ?? ''), 'unknown');
    return refuse('bit-string constants are not allowed');
  }

  private renderColumn(ref: ColumnRef): Rendered {
    allowFields(ref, ['fields', 'location'], 'column reference');
    const parts = (ref.fields ?? []).map((field) =>
      'String' in field ? (field.String.sval ?? '') : refuse('"*" is not allowed; name a column'),
    );
    const written = parts.join('.');
    if (parts.length > 2) refuse(`the column reference ${written} is schema-qualified; write the bare column name`);
    // The dataset's own name is accepted as a qualifier (findings.status); it
    // is dropped here and replaced by the query's alias at bind time.
    if (parts.length === 2 && parts[0] !== this.dataset.name) {
      refuse(`the column reference ${written} points outside the ${this.dataset.name} dataset`);
    }
    const column = parts[parts.length - 1];
    if (SYSTEM_COLUMNS.has(column)) refuse(`the system column ${column} is not allowed`);
    const type = this.dataset.columns.get(column);
    if (!type) {
      const known = [...this.dataset.columns.keys()].join(', ');
      refuse(`unknown column ${column} for the ${this.dataset.name} dataset (known: ${known})`);
    }
    return { ...atom(columnMarker(column), COLUMN_KINDS[type]), column };
  }

  private renderTemplate(param: ParamRef): Rendered {
    allowFields(param, ['number', 'location'], 'parameter');
    const location = param.location ?? -1;
    const placeholder = this.placeholders.get(location);
    if (!placeholder || placeholder.number !== param.number) {
      refuse(`the parameter $${param.number ?? ''} is not allowed; use a template such as {{ current_user_id }}`);
    }
    this.usedPlaceholders.add(location);
    if (!this.templates.includes(placeholder.name)) this.templates.push(placeholder.name);
    return atom(paramMarker(placeholder.name), TEMPLATE_KINDS[placeholder.name]);
  }

  private renderCast(cast: TypeCast): Rendered {
    allowFields(cast, ['arg', 'typeName', 'location'], 'cast');
    const target = castTarget(cast.typeName);
    const arg = this.renderOperand(cast.arg);
    if (!castable(arg.kind, target.kind)) {
      refuse(`${describe(arg.sql)} (${arg.kind}) cannot be cast to ${target.name}`);
    }
    // Rendered with the pg_catalog schema so that the search_path cannot
    // substitute another type of the same name.
    return atom(`CAST(${arg.sql} AS pg_catalog.${target.name})`, target.kind);
  }

  private renderFunction(call: FuncCall): Rendered {
    const { name, spec } = allowedFunction(call);
    const args = (call.args ?? []).map((arg) => this.renderOperand(arg));
    if (args.length < 1 || args.length > spec.maxArgs) {
      refuse(`${name} takes ${spec.maxArgs === 1 ? 'one argument' : 'one or two arguments'}`);
    }
    args.forEach((arg) => assertKind(arg, spec.argKind, `${name}()`));
    // pg_catalog-qualified for the same reason as casts.
    return atom(`pg_catalog.${name}(${args.map((arg) => arg.sql).join(', ')})`, spec.resultKind);
  }

  private renderCoalesce(expr: CoalesceExpr): Rendered {
    allowFields(expr, ['args', 'location'], 'COALESCE');
    const args = (expr.args ?? []).map((arg) => this.renderOperand(arg));
    if (args.length === 0) refuse('COALESCE needs at least one argument');
    const known = args.find((arg) => arg.kind !== 'unknown') ?? args[0];
    args.forEach((arg) => assertComparable(known, arg, 'COALESCE'));
    return atom(`COALESCE(${args.map((arg) => arg.sql).join(', ')})`, known.kind);
  }
}

function required(node: Node | undefined): Node {
  return node ?? refuse('the clause has an incomplete expression');
}

function allowFields(body: object, allowed: readonly string[], what: string): void {
  const extra = Object.keys(body).find((field) => !allowed.includes(field));
  if (extra) refuse(`unsupported ${what} syntax (${extra})`);
}

function operatorName(name: Node[] | undefined): string {
  const parts = (name ?? []).map((part) => ('String' in part ? (part.String.sval ?? '') : '?'));
  if (parts.length !== 1) refuse(`the qualified operator OPERATOR(${parts.join('.')}) is not allowed`);
  return parts[0];
}

function listItems(node: Node | undefined, keyword: string): Node[] {
  if (!node || !('List' in node)) return refuse(`${keyword} takes a parenthesized list of values`);
  return node.List.items ?? [];
}

function assertComparable(left: Rendered, right: Rendered, operator: string): void {
  if (!comparable(left.kind, right.kind)) {
    refuse(`${operator} cannot compare ${describe(left.sql)} (${left.kind}) with ${describe(right.sql)} (${right.kind})`);
  }
}

function assertKind(value: Rendered, kind: Kind, context: string): void {
  if (!comparable(value.kind, kind)) refuse(`${context} expects a ${kind} value, not ${describe(value.sql)} (${value.kind})`);
}

function allowedFunction(call: FuncCall): { name: string; spec: FunctionSpec } {
  const names = (call.funcname ?? []).map((part) => ('String' in part ? (part.String.sval ?? '') : '?'));
  const written = names.join('.');
  const extra = Object.keys(call).find((field) => !['funcname', 'args', 'funcformat', 'location'].includes(field));
  if (extra) refuse(`${written}(...) with *, DISTINCT, ORDER BY, FILTER, OVER or VARIADIC is not allowed`);

  // The parser writes LIKE ... ESCAPE as a call to this function.
  if (written === 'pg_catalog.like_escape') refuse('LIKE ... ESCAPE is not allowed');
  const name = names[names.length - 1];
  if (call.funcformat === 'COERCE_SQL_SYNTAX') {
    const spec = names.length === 2 && names[0] === 'pg_catalog' ? TRIM_FUNCTIONS.get(name) : undefined;
    if (!spec) refuse(`the function ${name} is not allowed (allowed: ${FUNCTIONS_HELP})`);
    return { name, spec };
  }
  if (names.length !== 1) refuse(`the schema-qualified function ${written} is not allowed; write the bare name`);
  const spec = FUNCTIONS.get(name);
  if (!spec) refuse(`the function ${name} is not allowed (allowed: ${FUNCTIONS_HELP})`);
  return { name, spec };
}

function castTarget(typeName: TypeName | undefined): { name: string; kind: Kind } {
  const type = typeName ?? refuse('a cast without a type');
  const names = (type.names ?? []).map((part) => ('String' in part ? (part.String.sval ?? '') : '?'));
  const written = names.join('.');
  const name = names[names.length - 1] ?? '';
  if (name.startsWith('reg')) refuse(`the cast to ${written} is not allowed (reg* types look up database objects)`);
  const qualifiedByCatalog = names.length === 2 && names[0] === 'pg_catalog';
  const kind = names.length === 1 || qualifiedByCatalog ? CAST_TARGETS.get(name) : undefined;
  if (!kind) refuse(`the cast to ${written} is not allowed (allowed: ${CAST_TARGETS_HELP})`);
  if (type.arrayBounds) refuse(`the cast to an array (${written}[]) is not allowed`);
  if (type.typmods) refuse(`type modifiers in the cast to ${written} are not allowed`);
  allowFields(type, ['names', 'typemod', 'location'], 'cast');
  return { name, kind };
}
