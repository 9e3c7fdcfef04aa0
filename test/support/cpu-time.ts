import { readdirSync, readFileSync } from 'node:fs';

/** The kernel's clock ticks per second for /proc times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a process in microseconds (fields 14 and 15 of /proc/<pid>/stat), 0 once it is gone. */
export function processCpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * CPU microseconds of each PostgreSQL process on the machine (postmaster,
 * backends, background workers) by pid, or with `database` only of the
 * backends connected to it (their title names it), which other work on the
 * machine does not move.
 */
export function postgresCpuByProcess(database?: string): Map<number, number> {
  const spent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
      if (database !== undefined && !readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(` ${database} `)) continue;
      spent.set(Number(entry), processCpuMicros(Number(entry)));
    } catch {
      // The process ended while the list was read.
    }
  }
  return spent;
}

/**
 * CPU the processes of `after` spent since `before`: each one's growth, all
 * of it for a process started in between. A process that exited in between
 * (a pool closing an idle connection) takes its time with it and counts
 * nothing, so the figure errs low, never below zero.
 */
export function cpuSpentSince(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const [pid, micros] of after) total += micros - Math.min(before.get(pid) ?? 0, micros);
  return total;
}
