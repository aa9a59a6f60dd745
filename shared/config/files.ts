// The one place that reads Seakeeper's own files in config/ (schemas and system policy). Each file is read
// once, on first use, and kept: these files ship with the code and do not change while a process runs.
// Works from the sources (shared/config/ under tsx) and from the build (dist/shared/config/) alike, by
// looking for config/ in the nearest ancestor directory that has one.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file every checkout has; its presence marks the right config/ directory. */
const MARKER = 'seakeeper.schema.json';

function findConfigDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    const candidate = path.join(dir, 'config');
    if (existsSync(path.join(candidate, MARKER))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`cannot find Seakeeper's config/ directory (with ${MARKER}) above ${fileURLToPath(import.meta.url)}`);
}

let configDir: string | undefined;
const cache = new Map<string, string>();

/** The absolute path of config/. */
export function configDirectory(): string {
  configDir ??= findConfigDir();
  return configDir;
}

/** The text of config/<name>, read once. */
export function readConfigFile(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(path.join(configDirectory(), name), 'utf8');
    cache.set(name, text);
  }
  return text;
}

/** config/<name> parsed as JSON (the JSON Schemas), read once. */
export function readConfigJson(name: string): unknown {
  return JSON.parse(readConfigFile(name));
}
