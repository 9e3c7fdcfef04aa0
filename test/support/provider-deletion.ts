import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { loadUntil } from './bench-load-until';
import { LoadResult } from './load';

export interface DeletionTask {
  result: { deleted: Record<string, number>; vacuum?: { seconds?: number } };
}

export interface DeletionUnderLoad {
  task: DeletionTask;
  /** From the DELETE request until the deletion task completed. */
  seconds: number;
  /** The load on `url` over the same time. */
  during: LoadResult;
}

/**
 * DELETE /providers/{id} through the API, then `url` loaded at `connections`
 * until the deletion task (run by a worker) completes: how long the deletion
 * takes, and what another reader sees meanwhile.
 */
export async function deleteProviderUnderLoad(
  admin: Client,
  api: { baseUrl: string; token: string; providerId: string },
  url: string,
  connections: number,
  headers: Record<string, string>,
): Promise<DeletionUnderLoad> {
  const started = Date.now();
  const response = await fetch(`${api.baseUrl}/api/v1/providers/${api.providerId}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${api.token}`, accept: 'application/vnd.api+json' },
  });
  if (response.status !== 202) throw new Error(`DELETE provider answered ${response.status}: ${await response.text()}`);
  const taskId = ((await response.json()) as { data: { id: string } }).data.id;
  const finished = waitForTask(admin, taskId);
  const during = await loadUntil(url, connections, headers, finished);
  const task = await finished;
  return { task, seconds: (Date.now() - started) / 1000, during };
}

async function waitForTask(admin: Client, taskId: string): Promise<DeletionTask> {
  for (;;) {
    const { rows } = await admin.query(`SELECT state, result FROM tasks WHERE id = $1`, [taskId]);
    const state = rows[0]?.state;
    if (state === 'completed') return rows[0];
    if (state === 'failed' || state === 'cancelled') throw new Error(`the deletion task ended ${state}: ${JSON.stringify(rows[0].result)}`);
    await sleep(100);
  }
}
