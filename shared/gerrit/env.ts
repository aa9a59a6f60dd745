// The variables a function that talks to Gerrit needs. GERRIT_PASSWORD is the account's HTTP password and
// is usually mounted from a Secret as GERRIT_PASSWORD_FILE.
import { httpUrl, integer, loadEnv, secret, text, withDefault, type Env } from '../env.js';
import { GerritClient } from './client.js';
import { DEFAULT_TIMEOUT_MS, type GerritConnection } from './rest.js';

export const gerritEnv = {
  GERRIT_URL: httpUrl(),
  GERRIT_USER: text(),
  GERRIT_PASSWORD: secret(),
  GERRIT_TIMEOUT_MS: withDefault(integer({ min: 100, max: 300_000 }), DEFAULT_TIMEOUT_MS),
};

export function gerritConnectionFromEnv(env: Env = process.env): GerritConnection {
  const config = loadEnv(gerritEnv, env);
  return {
    baseUrl: config.GERRIT_URL,
    username: config.GERRIT_USER,
    password: config.GERRIT_PASSWORD,
    timeoutMs: config.GERRIT_TIMEOUT_MS,
  };
}

export const gerritClientFromEnv = (env: Env = process.env): GerritClient =>
  new GerritClient(gerritConnectionFromEnv(env));
