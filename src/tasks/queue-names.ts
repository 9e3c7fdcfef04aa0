/** The BullMQ queues. Each has its own concurrency (QUEUE_CONCURRENCY_<NAME>), so long scans never starve deletions. */
export const QUEUE_NAMES = ['scans', 'overview', 'compliance', 'integrations', 'deletion', 'backfill', 'scan-reports'] as const;

export type QueueName = (typeof QUEUE_NAMES)[number];

/** The environment variable that sets a queue's concurrency. */
export function concurrencyVariable(queue: QueueName): string {
  return `QUEUE_CONCURRENCY_${queue.toUpperCase().replace(/-/g, '_')}`;
}
