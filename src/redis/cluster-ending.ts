import { Cluster } from 'ioredis';

/** The parts of ioredis's Cluster that end it, left out of its typings. */
interface ClusterInternals {
  status: string;
  setStatus(status: string): void;
  handleCloseEvent(): void;
}

/**
 * ioredis ends a Cluster when the last node of its pool ends. While the
 * cluster client is reconnecting (after a failover, once refreshing the slots
 * failed on every node it knew) the pool is empty, so disconnect() and quit()
 * there never reach 'end': BullMQ, which waits for the 'end' of a worker's
 * blocking connection when the worker closes, then waits for ever, and
 * commands queued meanwhile never settle. This client, and its duplicates
 * (BullMQ's blocking connections), end themselves in that case, as ioredis
 * does for a Cluster closed before it ever connected.
 *
 * The pool's emptying sets the status 'close', and what follows (reconnect,
 * or 'end' when closed on purpose) is decided by a 'close' listener that
 * each connect() adds once. A connect() given up before adding it (BullMQ
 * reconnects a worker's blocking client after a failover by disconnect()
 * then connect()) leaves the next 'close' unanswered: the client stayed in
 * 'close' for good, a command queued on it never settled, and a worker
 * closing waited on it for ever. So a 'close' nothing answered is answered
 * here, the way ioredis answers one.
 */
export function endingWhenEmpty(cluster: Cluster): Cluster {
  const internals = cluster as unknown as ClusterInternals;
  cluster.on('close', () => {
    // ioredis's own listeners run in the same emit, after this one: look once they had their turn.
    setImmediate(() => {
      if (internals.status === 'close') internals.handleCloseEvent();
    });
  });
  const endIfEmpty = () => {
    if (internals.status !== 'disconnecting' || cluster.nodes().length > 0) return;
    internals.setStatus('close');
    internals.handleCloseEvent();
  };
  const disconnect = cluster.disconnect.bind(cluster);
  cluster.disconnect = (reconnect = false) => {
    disconnect(reconnect);
    if (!reconnect) endIfEmpty();
  };
  const quit = cluster.quit.bind(cluster);
  cluster.quit = async () => {
    const reply = await quit();
    endIfEmpty();
    return reply;
  };
  const duplicate = cluster.duplicate.bind(cluster);
  cluster.duplicate = (startupNodes, options) => endingWhenEmpty(duplicate(startupNodes, options));
  return cluster;
}
