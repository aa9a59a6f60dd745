/** Where a Gerrit project keeps its configuration (project.config, groups, webhooks.config, seakeeper.yaml). */
export const CONFIG_REF = 'refs/meta/config';

/** A base URL ending in exactly one slash, so paths can be appended to it. */
export const withSlash = (url: string): string => url.replace(/\/*$/, '/');

/** The web page of a change, as Gerrit itself links it (`<web URL>/c/<project>/+/<number>`). */
export function changeUrl(webUrl: string, project: string, number: number): string {
  return `${withSlash(webUrl)}c/${project}/+/${number}`;
}
