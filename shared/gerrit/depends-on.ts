// The `Depends-On:` footers of a commit message (Zuul's cross-project dependencies), read as Zuul reads them: a
// line of the message, anywhere in it, that starts with `Depends-On:` in any case, naming one change by its
// URL on this Gerrit or by its Change-Id. Pure: what each footer names, and what is wrong with the ones that
// name nothing usable, so that they can be reported instead of ignored.
//
// URL forms (the web URL's host and path prefix, any scheme of http/https):
//   <web>/c/<project>/+/<number>[/<patch set>][/<file>…]   what Gerrit links today
//   <web>/c/<number>, <web>/<number>                       short forms Gerrit redirects
//   <web>/#/c/<number>[/…], <web>/#/c/<project>/+/<number>  the old UI's
// A patch set in the URL is not kept: a dependency is always on the change's current patch set.

/** What one footer names. */
export type DependsOn =
  | { readonly kind: 'change'; readonly number: number; readonly project?: string; readonly footer: string }
  | { readonly kind: 'change-id'; readonly changeId: string; readonly footer: string };

/** A footer that names no change of this Gerrit, and why (one sentence for the author). */
export interface DependsOnProblem {
  readonly footer: string;
  readonly reason: string;
}

export interface DependsOnFooters {
  /** In the order they appear, each change named once. */
  readonly dependencies: readonly DependsOn[];
  readonly problems: readonly DependsOnProblem[];
}

const FOOTER = /^depends-on:[ \t]*(.*?)[ \t]*\r?$/gim;
const CHANGE_ID = /^I[0-9a-f]{40}$/i;
const NUMBER = /^[1-9][0-9]{0,9}$/;

/** The Depends-On footers of `message`, resolved against Gerrit's web URL (`webUrl`). */
export function dependsOnFooters(message: string, webUrl: string): DependsOnFooters {
  const dependencies: DependsOn[] = [];
  const problems: DependsOnProblem[] = [];
  const seen = new Set<string>();
  for (const match of message.matchAll(FOOTER)) {
    const footer = match[1]!;
    const named = parseFooter(footer, webUrl);
    if ('reason' in named) {
      problems.push(named);
      continue;
    }
    const key = named.kind === 'change' ? `#${named.number}` : named.changeId;
    if (seen.has(key)) continue;
    seen.add(key);
    dependencies.push(named);
  }
  return { dependencies, problems };
}

function parseFooter(footer: string, webUrl: string): DependsOn | DependsOnProblem {
  if (footer === '') return { footer, reason: 'Depends-On names nothing' };
  if (CHANGE_ID.test(footer)) return { kind: 'change-id', changeId: `I${footer.slice(1).toLowerCase()}`, footer };
  let url: URL;
  try {
    url = new URL(footer);
  } catch {
    return { footer, reason: `Depends-On: ${footer} is neither a change's URL nor a Change-Id` };
  }
  const web = new URL(webUrl.endsWith('/') ? webUrl : `${webUrl}/`);
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.host.toLowerCase() !== web.host.toLowerCase() || !url.pathname.startsWith(web.pathname)) {
    return { footer, reason: `Depends-On: ${footer} names a change on another server than ${web.origin}${web.pathname}; only this Gerrit's changes can be tested together` };
  }
  const path = url.pathname.slice(web.pathname.length);
  const fragment = url.hash.startsWith('#/') ? url.hash.slice(2) : undefined;
  const named = path === '' && fragment !== undefined ? changeOfPath(fragment) : changeOfPath(path);
  if (!named) return { footer, reason: `Depends-On: ${footer} is not the URL of a change` };
  return { kind: 'change', number: named.number, ...(named.project !== undefined ? { project: named.project } : {}), footer };
}

/** `c/<project>/+/<n>[/…]`, `c/<n>[/…]` or `<n>[/]`: the change's number, and its project when named. */
function changeOfPath(path: string): { number: number; project?: string } | undefined {
  const segments = path.split('/');
  if (segments.length <= 2 && NUMBER.test(segments[0]!) && (segments[1] ?? '') === '') return { number: Number(segments[0]) };
  if (segments[0] !== 'c') return undefined;
  const plus = segments.indexOf('+');
  if (plus < 0) return NUMBER.test(segments[1] ?? '') ? { number: Number(segments[1]) } : undefined;
  const number = segments[plus + 1] ?? '';
  let project: string;
  try {
    project = segments.slice(1, plus).map(decodeURIComponent).join('/');
  } catch {
    return undefined;
  }
  if (!NUMBER.test(number) || project === '') return undefined;
  return { number: Number(number), project };
}
