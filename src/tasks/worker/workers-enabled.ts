/** Whether this process runs the queue processors (a worker process, or the API with WORKERS_IN_PROCESS=true). */
export const WORKERS_ENABLED = Symbol('WORKERS_ENABLED');
