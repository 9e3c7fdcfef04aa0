/**
 * Example values of body attributes, keyed by class prototype. A plain map
 * rather than reflect-metadata: DTO modules load before anything imports it.
 */
const EXAMPLES = new WeakMap<object, Map<string, unknown>>();

/**
 * An example value of a body attribute, for the OpenAPI document (the
 * property's `examples` and the body's pre-filled example). It must be an
 * input the endpoint accepts: openapi-examples.test.ts sends every example
 * through the class's validation.
 */
export function Example(value: unknown): PropertyDecorator {
  return (prototype, property) => {
    const own = EXAMPLES.get(prototype) ?? new Map<string, unknown>();
    own.set(String(property), value);
    EXAMPLES.set(prototype, own);
  };
}

/** The property's example, its own or inherited; `found` is false when none was declared. */
export function exampleOf(target: Function, property: string): { found: boolean; value?: unknown } {
  for (let prototype = target.prototype; prototype && prototype !== Object.prototype; prototype = Object.getPrototypeOf(prototype)) {
    const own = EXAMPLES.get(prototype);
    if (own?.has(property)) return { found: true, value: own.get(property) };
  }
  return { found: false };
}
