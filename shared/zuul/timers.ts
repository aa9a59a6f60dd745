// Zuul v2's timer trigger (`trigger: {timer: [{time: '0 3 * * *'}]}`) as Seakeeper's (`{event: timer, schedule}`,
// shared/pipelines/timers.ts). Pure. Zuul handed each `time` to APScheduler's CronTrigger, which reads five fields
// not quite as cron does, so a schedule keeps what Zuul ran, not merely what it says:
// - a sixth field is seconds. Zuul's default second was 0, so a sixth field of 0 says nothing; any other makes
//   the timer fire at a second, or several times a minute, which a schedule here (whole minutes) cannot say.
// - the month was never passed on: every timer ran every month, whatever its fourth field.
// - days of the week count from Monday (0) to Sunday (6), where cron's 0 is Sunday: numbers are shifted.
// - a day of the month and a day of the week, both given, must both match; cron runs on either, and a schedule
//   cannot say both, so such a timer is left out.
// - Zuul ran in its server's time zone; schedules here are UTC (the comment on each says so).
import { scheduleProblem } from '../config/pipeline-config.js';

type Path = readonly (string | number)[];

/** One `time` of a Zuul timer entry: its trigger, or why there is none; notes and comments relative to the trigger. */
export interface TimerConversion {
  readonly trigger?: Record<string, unknown> | undefined;
  readonly notes: readonly { readonly kind: string; readonly detail: string }[];
  readonly comments: readonly { readonly path: Path; readonly text: string }[];
}

/** Every `time` of one entry of a Zuul pipeline's `trigger: timer:` list, in order. */
export function convertTimer(entry: Record<string, unknown>): TimerConversion[] {
  const extra = Object.entries(entry)
    .filter(([key, setting]) => key !== 'time' && setting !== null && setting !== undefined)
    .map(([key, setting]) => ({ kind: `trigger: timer ${key}`, detail: `timer: ${key} ${JSON.stringify(setting)} not carried over: Zuul's timer trigger has only time` }));
  // Zuul took one time or a list of them, each a schedule of its own; none, and the timer never fired.
  const setting = entry.time;
  const times = Array.isArray(setting) ? setting : setting === undefined || setting === null || setting === '' ? [] : [setting];
  if (times.length === 0) {
    return [{ notes: [...extra, { kind: 'trigger: timer without time', detail: 'timer without a time left out: Zuul never fired it' }], comments: [] }];
  }
  return times.map((time, i) => {
    const converted = convertTime(time);
    return i === 0 ? { ...converted, notes: [...extra, ...converted.notes] } : converted;
  });
}

function convertTime(time: unknown): TimerConversion {
  const leftOut = (kind: string, why: string): TimerConversion => ({ notes: [{ kind, detail: `timer: time ${JSON.stringify(time)} left out: ${why}` }], comments: [] });
  if (typeof time !== 'string') return leftOut('trigger: timer schedule', 'not a cron text');
  const parts = time.trim().split(/\s+/);
  if (parts.length < 5 || parts.length > 6) return leftOut('trigger: timer schedule', 'Zuul took five fields, or six with seconds, and never fired one of other lengths');
  const [minute, hour, day, month, weekday, second] = parts as [string, string, string, string, string, string | undefined];
  if (second !== undefined && !/^0+$/.test(second)) {
    return leftOut(
      'trigger: timer seconds',
      `Zuul fired it at second ${JSON.stringify(second)} of each minute it names; a schedule here names whole minutes, one run each (its first five fields say so, if that will do)`,
    );
  }
  if (day !== '*' && weekday !== '*') {
    return leftOut('trigger: timer day of month and of week', 'Zuul ran it on the days matching both its day of month and its day of week, cron on the days matching either');
  }
  const notes: { kind: string; detail: string }[] = [];
  if (month !== '*') {
    notes.push({
      kind: 'trigger: timer month',
      detail: `timer: time ${JSON.stringify(time)}: month ${JSON.stringify(month)} not carried over: Zuul v2 never passed the month to its scheduler, so the timer ran every month, as it does here`,
    });
  }
  const cronWeekday = weekday.split(',').map(shiftWeekday).join(',');
  const schedule = [minute, hour, day, '*', cronWeekday].join(' ');
  const invalid = scheduleProblem(schedule);
  if (invalid !== undefined) return leftOut('trigger: timer schedule', invalid);
  const said = [
    `Zuul time ${JSON.stringify(time)}`,
    ...(cronWeekday !== weekday ? ['its days of the week counted from 0 = Monday'] : []),
    ...(second !== undefined ? ['its sixth field, second 0, dropped: a minute here starts at second 0 too'] : []),
  ];
  return {
    trigger: { event: 'timer', schedule },
    notes,
    comments: [{ path: ['schedule'], text: `${said.join('; ')}; in the Zuul server's time zone, UTC here` }],
  };
}

/**
 * One comma-separated term of APScheduler's day_of_week (0 = Monday … 6 = Sunday) in cron's numbering (1 = Monday
 * … 7 = Sunday): `a`, `a-b`, `a-b/n`, `a/n` (a to Sunday) and `*\/n` (from Monday). Names mean the same in both;
 * anything else is left as written, for scheduleProblem to judge.
 */
function shiftWeekday(term: string): string {
  const every = /^\*\/(\d+)$/.exec(term);
  if (every) return `1-7/${every[1]}`;
  const range = /^(\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(term);
  if (!range) return term;
  const [, first, last, step] = range;
  const end = last !== undefined ? `-${Number(last) + 1}` : step !== undefined ? '-7' : '';
  return `${Number(first) + 1}${end}${step !== undefined ? `/${step}` : ''}`;
}
