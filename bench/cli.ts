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

export { median } from '../shared/statistics.js';
