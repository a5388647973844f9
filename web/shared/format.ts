// Times and states in words; no DOM here, so the wording is testable outside a browser.

/** "1h 02m", "4m 05s", "12s": how long, for people. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m) return `${m}m ${String(sec).padStart(2, "0")}s`;
  return `${sec}s`;
}

/** A local time of day, or the date too when it is not today. */
export function clock(iso: string): string {
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? d.toLocaleTimeString() : d.toLocaleString();
}

/** State words shown beside their colour, so no one has to tell colours apart. */
export const STATE_LABEL: Record<string, string> = {
  requested: "Requested",
  starting: "Starting",
  running: "Running",
  stopping: "Stopping",
  removed: "Removed",
  failed: "Failed",
};
