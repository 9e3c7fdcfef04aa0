import type { BackoffStrategy } from 'bullmq';

/** The custom BullMQ backoff type every job uses; workers resolve it with `taskBackoffStrategy`. */
export const TASK_BACKOFF = 'task-backoff';

/**
 * Exponential backoff with "equal jitter": half the exponential delay is
 * kept, the other half is random, so retries of jobs that failed together
 * (a database restart) spread out instead of striking again at once.
 */
export function retryDelayMs(attemptsMade: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export function taskBackoffStrategy(baseMs: number, maxMs: number): BackoffStrategy {
  // -1 tells BullMQ not to retry: an unknown backoff type is a programming error, not a reason to loop.
  return (attemptsMade, type) => (type === TASK_BACKOFF ? retryDelayMs(attemptsMade, baseMs, maxMs) : -1);
}
