/**
 * Error details may quote what the client sent (an unknown parameter's name,
 * a content type), but only a short piece of it, with anything that could be
 * mistaken for markup or break a terminal or log line escaped.
 */
const EXCERPT_LENGTH = 40;
/** The longest detail or source member an error document carries, whatever built it. */
const ERROR_TEXT_LENGTH = 300;
// Controls (C0, DEL, C1), line and paragraph separators, angle brackets, and lone surrogates.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029<>]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  // Never split a surrogate pair: a half would be a lone surrogate of our own making.
  const end = /[\ud800-\udbff]/.test(text[max - 1]) ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}

/** A short, escaped piece of client input to quote in an error detail. */
export function excerpt(input: unknown, max = EXCERPT_LENGTH): string {
  return escapeUnsafe(cut(String(input), max));
}

/** The last guard on any text an error document carries: escaped and bounded. */
export function boundedErrorText(text: string): string {
  return cut(escapeUnsafe(text), ERROR_TEXT_LENGTH);
}
