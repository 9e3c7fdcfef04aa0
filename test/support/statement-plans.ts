import { closeSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

export interface CapturedStatement {
  text: string;
  values: unknown[];
}

/** Reads what an API process with test/support/sql-capture.js appended to its capture file since the last read. */
export class CaptureReader {
  private offset = 0;

  constructor(readonly file: string) {
    writeFileSync(file, '');
  }

  next(): CapturedStatement[] {
    const size = statSync(this.file).size;
    if (size <= this.offset) return [];
    const buffer = Buffer.alloc(size - this.offset);
    const fd = openSync(this.file, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    return buffer.toString().split('\n').filter(Boolean).map((line) => JSON.parse(line) as CapturedStatement);
  }
}

const TENANT_SETTING = /SELECT set_config\('api\.tenant_id', '[0-9a-f-]{36}', true\)/;

/**
 * EXPLAIN (ANALYZE, BUFFERS) of every read a request ran, as the app role
 * under the tenant setting the request's transaction set, in one transaction
 * that is rolled back, with the planner settings the request set around a
 * statement (id-order-walk.ts) set and reset the same way. A statement that
 * fails is noted and skipped. Returns
 * the text written to `file`: the plans, slowest first.
 */
export async function explainStatements(appUrl: string, statements: CapturedStatement[], file: string): Promise<{ statements: number; slowest_ms: number }> {
  const client = new Client({ connectionString: appUrl });
  await client.connect();
  const plans: Array<{ ms: number; text: string }> = [];
  try {
    await client.query('BEGIN READ ONLY');
    for (const statement of statements) {
      const setting = TENANT_SETTING.exec(statement.text);
      if (setting) await client.query(setting[0]);
      if (/^\s*(SET LOCAL|RESET)\b/i.test(statement.text)) {
        await client.query(statement.text);
        continue;
      }
      if (!/^\s*(SELECT|WITH)\b/i.test(statement.text) || /set_config\(/.test(statement.text)) continue;
      await client.query('SAVEPOINT plan');
      try {
        const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, statement.values);
        const lines = rows.map((r) => r['QUERY PLAN'] as string);
        const ms = Number(/Execution Time: ([\d.]+) ms/.exec(lines[lines.length - 1] ?? '')?.[1] ?? 0);
        plans.push({ ms, text: `${statement.text.trim()}\n-- parameters: ${JSON.stringify(statement.values)}\n${lines.join('\n')}` });
        await client.query('RELEASE SAVEPOINT plan');
      } catch (error) {
        plans.push({ ms: 0, text: `${statement.text.trim()}\n-- could not be explained: ${(error as Error).message}` });
        await client.query('ROLLBACK TO SAVEPOINT plan');
      }
    }
    await client.query('ROLLBACK');
  } finally {
    await client.end();
  }
  plans.sort((a, b) => b.ms - a.ms);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, plans.map((p) => `-- ${p.ms} ms\n${p.text}`).join('\n\n') + '\n');
  return { statements: plans.length, slowest_ms: plans[0]?.ms ?? 0 };
}
