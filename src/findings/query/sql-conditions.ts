/**
 * The WHERE clause of one dataset query and its parameters, built together so
 * that placeholders always match their values. Values go in as parameters;
 * only column expressions chosen from allow-lists are ever written as text.
 */
export interface BoundPredicate {
  sql: string;
  params: unknown[];
}

export class SqlConditions {
  private readonly clauses: string[] = [];

  /** `params` is shared when given: a sub-condition (such as a subquery's WHERE) numbers its placeholders in the same statement. */
  constructor(readonly params: unknown[] = []) {}

  /** True once a predicate from outside this feature (a row filter rule) was added: summaries cannot answer for it. */
  external = false;

  /** Adds a value and returns its placeholder. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(clause: string): this {
    this.clauses.push(clause);
    return this;
  }

  /**
   * Splices a predicate rendered elsewhere (a bound row filter clause) whose
   * placeholders were numbered from `$<paramOffset + 1>`.
   */
  addBound(bound: BoundPredicate, paramOffset: number): this {
    if (paramOffset !== this.params.length) throw new Error('addBound: the predicate was rendered for another parameter offset');
    this.params.push(...bound.params);
    this.clauses.push(`(${bound.sql})`);
    this.external = true;
    return this;
  }

  get isEmpty(): boolean {
    return this.clauses.length === 0;
  }

  /** `WHERE a AND b`, or '' when there is no condition. */
  where(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : '';
  }

  /** The conditions joined with AND, or `true` when there is none. */
  all(): string {
    return this.clauses.length ? this.clauses.join(' AND ') : 'true';
  }

  /** Conditions for a subquery of the same statement: its own clauses, the same parameter list. */
  subquery(): SqlConditions {
    return new SqlConditions(this.params);
  }
}
