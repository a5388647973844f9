import { readFile } from "node:fs/promises";
import { kill } from "node:process";

/**
 * A process's start time in clock ticks since boot (field 22 of /proc/PID/stat): with the pid, it names one
 * process, since pids are reused. Null when no such process runs. Without /proc, a running pid yields "?".
 */
export async function processStartTime(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  if (stat !== null) {
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  }
  try {
    kill(pid, 0);
    return "?";
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM" ? "?" : null;
  }
}
