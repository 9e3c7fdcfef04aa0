import { parseDocument } from 'yaml';

/** Deeper than any real configuration file; the YAML parser itself recurses, so deeper input never reaches it. */
const MAX_FLOW_DEPTH = 64;
const MAX_INDENT_COLUMNS = 128;
/** Anchors let a small text expand into a huge one ("billion laughs"); real files use a handful at most. */
const MAX_ALIAS_COUNT = 100;

export type YamlReading = { value: unknown } | { problem: string };

/**
 * Reads one YAML document the way a strict reader would: a duplicate key, a
 * second document, an unknown tag or any other warning is a refusal, so what
 * we check is what the scanner's own (more lenient) reader would see. The
 * problem never quotes the text: it is a credential.
 */
export function readYamlDocument(text: string): YamlReading {
  if (nestingTooDeep(text)) return { problem: `nests deeper than ${MAX_FLOW_DEPTH} levels.` };
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const [trouble] = [...document.errors, ...document.warnings];
  if (trouble) {
    const line = trouble.linePos?.[0].line;
    return { problem: `is not valid YAML${line ? ` (line ${line})` : ''}: ${trouble.code.toLowerCase().replace(/_/g, ' ')}.` };
  }
  try {
    return { value: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch {
    return { problem: 'is not valid YAML: it expands too many aliases.' };
  }
}

/**
 * Flow collections ([ { ) counted without parsing (brackets in quoted text
 * count too, which only errs on the safe side), and block nesting bounded
 * through indentation.
 */
function nestingTooDeep(text: string): boolean {
  let depth = 0;
  for (const char of text) {
    if (char === '[' || char === '{') {
      if (++depth > MAX_FLOW_DEPTH) return true;
    } else if ((char === ']' || char === '}') && depth > 0) {
      depth--;
    }
  }
  return text.split('\n').some((line) => line.length - line.trimStart().length > MAX_INDENT_COLUMNS);
}

/** One key or index on the way to a value, for messages: users[0].user.exec. */
export function pathText(path: readonly (string | number)[]): string {
  return path.map((step, index) => (typeof step === 'number' ? `[${step}]` : index === 0 ? step : `.${step}`)).join('');
}

/**
 * Every mapping key in the value, with its path, breadth first and without
 * recursion (aliases may share subtrees; each is visited where it appears).
 */
export function* mappingKeys(root: unknown): Generator<{ key: string; value: unknown; path: (string | number)[] }> {
  const queue: Array<{ value: unknown; path: (string | number)[] }> = [{ value: root, path: [] }];
  for (let next = queue.shift(); next; next = queue.shift()) {
    if (Array.isArray(next.value)) {
      next.value.forEach((item, index) => queue.push({ value: item, path: [...next!.path, index] }));
    } else if (isMapping(next.value)) {
      for (const [key, value] of Object.entries(next.value)) {
        const path = [...next.path, key];
        yield { key, value, path };
        queue.push({ value, path });
      }
    }
  }
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
