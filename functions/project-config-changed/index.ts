// project.config-changed: provisions, updates or deprovisions the project's namespace (and those of the
// projects that inherit its seakeeper.yaml) after refs/meta/config moved or the project was created.
// The work is in shared/provisioning/config-changed.ts.
import { cloudEventFunction } from '../../shared/events/handler.js';
import { ProjectConfigChanged } from '../../shared/provisioning/config-changed.js';

let served: ProjectConfigChanged | undefined;

/** Checks the configuration (Gerrit, cluster, policy): at start-up, when this function is served. */
export function startProjectConfigChanged(env: NodeJS.ProcessEnv = process.env): ProjectConfigChanged {
  served = ProjectConfigChanged.fromEnv(env);
  return served;
}

export const projectConfigChanged = cloudEventFunction('project-config-changed', (event) =>
  (served ?? startProjectConfigChanged()).handle(event),
);
