// What every bench shares: its `--name=N` options and the median it reports.

/** The `--name=N` options on the command line, by name. */
export function numericArgs(argv: readonly string[] = process.argv.slice(2)): Record<string, number | undefined> {
  return Object.fromEntries(
    argv.flatMap((arg) => {
      const m = /^--([a-z-]+)=(\d+)$/.exec(arg);
      return m ? [[m[1]!, Number(m[2])]] : [];
    }),
  );
}

/** The median; of an even count, the mean of the middle two. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
