// A one-line progress bar for long runs, on a TTY; silent otherwise.

export type Progress = (done: number, total: number, what: string) => void;

export function progressBar(out: { isTTY?: boolean; write(s: string): unknown }, label: string, width = 30): Progress {
  if (!out.isTTY) return () => {};
  const started = Date.now();
  return (done, total, what) => {
    const filled = total > 0 ? Math.round((width * done) / total) : width;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    out.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${secs}s ${what}`.padEnd(100).slice(0, 100));
    if (done >= total) out.write('\n');
  };
}
