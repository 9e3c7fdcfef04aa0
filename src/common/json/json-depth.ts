/**
 * The deepest nesting any JSON text we accept may have. Request bodies are
 * JSON:API documents a few levels deep; a rule's clause tree or a secret's
 * object stays well under this. Deeper input is refused before it is parsed,
 * so nothing downstream (validation, cloning, storage) recurses into it.
 */
export const MAX_JSON_DEPTH = 64;

const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * Whether a JSON text nests arrays and objects deeper than `maxDepth`. One
 * pass over the characters, no recursion and no parsing: brackets inside
 * strings are skipped, anything else malformed is left for JSON.parse to
 * refuse.
 */
export function jsonDepthExceeds(text: string, maxDepth = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === BACKSLASH) index++;
      else if (char === QUOTE) inString = false;
    } else if (char === QUOTE) {
      inString = true;
    } else if (char === OPEN_BRACKET || char === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (char === CLOSE_BRACKET || char === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}
