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
function endWhenEmpty(cluster: Cluster): void {
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
}

interface ConnectWaiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * ioredis settles a Cluster's connect() when its first ready check passes or
 * its slot refresh fails. A ready check that fails (CLUSTER INFO says
 * cluster_state:fail, as during a failover) makes the client reconnect by
 * itself, but that connect()'s promise then never settles, whatever the client
 * does next. BullMQ reconnects a worker's blocking client after a blocking call
 * overran by awaiting connect(): caught in a failover, that worker waited for
 * ever, and closing it waited on it. Here connect() settles with the client:
 * resolved once it is ready (whichever reconnect got it there), rejected when
 * it ends.
 */
function settleConnect(cluster: Cluster): void {
  const waiting = new Set<ConnectWaiter>();
  const settleAll = (outcome: (waiter: ConnectWaiter) => void) => () => {
    for (const waiter of waiting) outcome(waiter);
    waiting.clear();
  };
  cluster.on('ready', settleAll((waiter) => waiter.resolve()));
  cluster.on('end', settleAll((waiter) => waiter.reject(new Error('Connection is closed.'))));
  const connect = cluster.connect.bind(cluster);
  cluster.connect = () =>
    new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      waiting.add(waiter);
      connect().then(
        () => {
          waiting.delete(waiter);
          resolve();
        },
        (error: Error) => {
          waiting.delete(waiter);
          reject(error);
        },
      );
    });
}

/** ioredis's keeper of a Cluster's pub/sub connection, left out of its typings. */
interface ClusterSubscriberInternals {
  onSubscriberEnd(): void;
  getInstance(): unknown;
  /** The last connection that held the subscriptions: each new pick disconnects it and takes its channels over. */
  lastActiveSubscriber?: { status: string; disconnect(): void };
}

/** How long a cluster client waits before it picks a new node for its pub/sub connection after the last one ended. */
export const SUBSCRIBER_RESELECT_DELAY_MS = 250;

/**
 * A Cluster with subscriptions keeps one pub/sub connection to a node of its
 * pool, and when that connection ends it picks another node at once, with no
 * pause. Once every node is down (a whole-cluster outage) each pick is
 * refused straight away and ends again: ioredis opened thousands of
 * connections a second, holding a core and growing memory by tens of MB a
 * second until the cluster came back. Here each new pick waits a moment; a
 * message published meanwhile is missed, as it would be while the node is
 * down anyway (the cancel bus, this project's subscriber, has the task row to
 * fall back on).
 */
function paceSubscriberReselect(cluster: Cluster): void {
  const subscriber = (cluster as unknown as { subscriber: ClusterSubscriberInternals }).subscriber;
  // Bound to its ClusterSubscriber, and a no-op once that is stopped: a late call is harmless.
  const reselect = subscriber.onSubscriberEnd;
  let pending: NodeJS.Timeout | undefined;
  subscriber.onSubscriberEnd = () => {
    // Only the current connection's end is listened to; if another pick replaced it meanwhile, that one stands.
    const ended = subscriber.getInstance();
    clearTimeout(pending);
    pending = setTimeout(() => {
      if (subscriber.getInstance() !== ended) return;
      // Disconnecting a connection that already ended adds a listener to its closed socket that
      // never fires: one more per pick for as long as the outage lasts.
      const last = subscriber.lastActiveSubscriber;
      if (last?.status === 'end') last.disconnect = () => undefined;
      reselect();
    }, SUBSCRIBER_RESELECT_DELAY_MS);
    pending.unref();
  };
}

/**
 * A Cluster, and each of its duplicates (BullMQ's blocking connections), with
 * the repairs above: every close reaches 'end', every connect() settles, and
 * its pub/sub connection does not spin through dead nodes.
 */
export function repairedCluster(cluster: Cluster): Cluster {
  endWhenEmpty(cluster);
  settleConnect(cluster);
  paceSubscriberReselect(cluster);
  const duplicate = cluster.duplicate.bind(cluster);
  cluster.duplicate = (startupNodes, options) => repairedCluster(duplicate(startupNodes, options));
  return cluster;
}
