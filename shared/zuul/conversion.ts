// The result of converting a Zuul v2 layout (convert.ts makes it, report.ts describes it).
import type { ConvertedAccountSet } from './accounts.js';
import type { ZuulLayout } from './layout.js';
import type { Note } from './notes.js';
import type { ConvertedPipeline } from './pipelines.js';
import type { ConvertedProject } from './projects.js';
import type { SharedQueue } from './queues.js';

export interface Conversion {
  readonly layout: ZuulLayout;
  readonly pipelines: readonly ConvertedPipeline[];
  /** pipelines.yaml's `accounts:`: Zuul's e-mail filters, each distinct list once. */
  readonly accounts: readonly ConvertedAccountSet[];
  readonly projects: readonly ConvertedProject[];
  /** Largest first. */
  readonly queues: readonly SharedQueue[];
  /** The system policy's sharedQueues for the queues. */
  readonly policy: Record<string, string[]>;
  readonly notes: readonly Note[];
}
