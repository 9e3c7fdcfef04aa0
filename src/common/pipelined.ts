/**
 * Drives `source` one item ahead: while `consume` handles an item (a batch's
 * statements, mostly waiting on the database), `prepare` already works on
 * the next one (reading and encoding it, on this process's CPU), so the two
 * overlap instead of taking turns. Items are consumed in order, one at a time.
 * A failure preparing an item surfaces once the item before it is consumed,
 * as in a plain loop; a failure consuming one stops the loop at once.
 * `consumed`, when given, is told each time an item has been consumed, when
 * the loop turns to wait for the next one. Answers the source's return value.
 */
export async function pipelined<I, P, R>(
  source: AsyncIterator<I, R>,
  prepare: (item: I) => Promise<P>,
  consume: (prepared: P, item: I) => Promise<void>,
  consumed?: () => void,
): Promise<R> {
  const ahead = async (): Promise<IteratorResult<{ item: I; prepared: P }, R>> => {
    const next = await source.next();
    return next.done ? next : { done: false, value: { item: next.value, prepared: await prepare(next.value) } };
  };
  let pending = ahead();
  for (;;) {
    const current = await pending;
    if (current.done) return current.value;
    pending = ahead();
    // Awaited on the next turn; should consume fail first, its failure is not left unhandled.
    pending.catch(() => undefined);
    await consume(current.value.prepared, current.value.item);
    consumed?.();
  }
}
