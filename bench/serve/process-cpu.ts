import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU time in these ticks on every architecture it runs on. */
const TICKS_PER_SECOND = 100;

interface ProcessTimes {
  readonly ppid: number;
  /** utime + stime: every thread's, lavapipe's rasterizer threads included. */
  readonly ticks: number;
}

/** /proc/PID/stat's parent and CPU ticks; the command name, in parentheses, may hold spaces. */
function readStat(pid: string): ProcessTimes | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state (3), ppid (4), …, utime (14), stime (15), numbered from pid as 1.
  return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

/**
 * The CPU time in ms that `pid` and its descendants have used (the adapt bin runs its GPU commands
 * in a child process); undefined where there is no /proc. On a machine shared with other work
 * this moves less than wall time does: it counts the server's own work, not its waits.
 */
export function processTreeCpuMs(pid: number): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const stats = new Map<number, ProcessTimes>();
  for (const entry of entries) {
    const stat = readStat(entry);
    if (stat) stats.set(Number(entry), stat);
  }
  if (!stats.has(pid)) return undefined;
  const inTree = (id: number): boolean => {
    for (let at = id; at > 1; at = stats.get(at)?.ppid ?? 0) if (at === pid) return true;
    return false;
  };
  let ticks = 0;
  for (const [id, stat] of stats) if (inTree(id)) ticks += stat.ticks;
  return (1000 * ticks) / TICKS_PER_SECOND;
}
