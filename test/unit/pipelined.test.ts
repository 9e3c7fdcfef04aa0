import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pipelined } from '../../src/common/pipelined';

async function* items(count: number, failAt?: number): AsyncGenerator<number, string> {
  for (let index = 0; index < count; index++) {
    if (index === failAt) throw new Error(`source failed at ${index}`);
    yield index;
  }
  return `read ${count}`;
}

describe('pipelined', () => {
  it('consumes every item in order, each once prepared, and answers the source’s return value', async () => {
    const consumed: string[] = [];
    const result = await pipelined(items(5), async (n) => `prepared ${n}`, async (prepared, n) => {
      consumed.push(`${n}: ${prepared}`);
    });
    assert.equal(result, 'read 5');
    assert.deepEqual(consumed, [0, 1, 2, 3, 4].map((n) => `${n}: prepared ${n}`));
  });

  it('prepares the next item while the current one is consumed', async () => {
    let nextStarted: () => void = () => undefined;
    const secondPrepared = new Promise<void>((resolve) => (nextStarted = resolve));
    const events: string[] = [];
    const run = pipelined(
      items(2),
      async (n) => {
        events.push(`prepare ${n}`);
        if (n === 1) nextStarted();
        return n;
      },
      async (n) => {
        events.push(`consume ${n} starts`);
        // Item 0's consumption finishes only once item 1 is being prepared: a plain loop would never get there.
        if (n === 0) await secondPrepared;
        events.push(`consume ${n} ends`);
      },
    );
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the next item was not prepared during consumption')), 2000).unref());
    await Promise.race([run, timeout]);
    assert.deepEqual(events, ['prepare 0', 'consume 0 starts', 'prepare 1', 'consume 0 ends', 'consume 1 starts', 'consume 1 ends']);
  });

  it('a failure reading or preparing an item surfaces after the items before it are consumed', async () => {
    const consumed: number[] = [];
    await assert.rejects(
      pipelined(items(5, 3), async (n) => n, async (n) => {
        consumed.push(n);
      }),
      /source failed at 3/,
    );
    assert.deepEqual(consumed, [0, 1, 2]);

    const consumedToo: number[] = [];
    await assert.rejects(
      pipelined(items(5), async (n) => {
        if (n === 2) throw new Error('cannot prepare 2');
        return n;
      }, async (n) => {
        consumedToo.push(n);
      }),
      /cannot prepare 2/,
    );
    assert.deepEqual(consumedToo, [0, 1]);
  });

  it('a failure consuming an item stops at once, and the item prepared meanwhile failing is not left unhandled', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const consumed: number[] = [];
      await assert.rejects(
        pipelined(items(5), async (n) => {
          if (n === 2) throw new Error('prepared too late to matter');
          return n;
        }, async (n) => {
          consumed.push(n);
          if (n === 1) throw new Error('consuming 1 failed');
        }),
        /consuming 1 failed/,
      );
      assert.deepEqual(consumed, [0, 1]);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', record);
    }
  });
});
