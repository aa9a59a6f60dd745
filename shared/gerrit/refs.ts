/** Where a Gerrit project keeps its configuration (project.config, groups, webhooks.config, seakeeper.yaml). */
export const CONFIG_REF = 'refs/meta/config';
