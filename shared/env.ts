// Configuration from environment variables (so `kn service update --env` works) and mounted Secrets
// (`NAME_FILE`). Each function declares the variables it needs as a spec; `loadEnv` checks all of them at
// start-up and reports every problem at once, each naming its variable, without ever echoing a value.
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';

export type Env = Readonly<Record<string, string | undefined>>;

/** A secret value. It prints as `[secret]` everywhere (logs, JSON, inspect); `reveal()` is the only way in. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [inspect.custom](): string {
    return 'Secret([secret])';
  }
}

/** A problem with one variable: `subject` (the variable, by default) followed by the message, e.g. "must be …". */
class Invalid extends Error {
  constructor(
    message: string,
    readonly subject?: string,
  ) {
    super(message);
  }
}

export interface Field<T> {
  /** Turns the variable's text into a value, or throws `Invalid`. */
  readonly parse: (raw: string) => T;
  /** The value when the variable is unset or empty, or throws `Invalid` when it is required. */
  readonly absent: () => T;
  /** Secrets may come from `NAME_FILE`. */
  readonly secret: boolean;
}

const required = (): never => {
  throw new Invalid('is required');
};

export function text(rule?: { pattern: RegExp; description: string }): Field<string> {
  return {
    parse: (raw) => {
      if (rule && !rule.pattern.test(raw)) throw new Invalid(`must be ${rule.description}`);
      return raw;
    },
    absent: required,
    secret: false,
  };
}

export function httpUrl(): Field<string> {
  return {
    parse: (raw) => {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new Invalid('must be an absolute http(s) URL');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Invalid('must be an absolute http(s) URL');
      // Credentials in a URL end up in logs and error messages; they belong in their own secret variable.
      if (url.username || url.password) throw new Invalid('must not contain credentials');
      return url.href;
    },
    absent: required,
    secret: false,
  };
}

export function integer(range: { min: number; max: number }): Field<number> {
  const rule = `must be an integer from ${range.min} to ${range.max}`;
  return {
    parse: (raw) => {
      if (!/^-?\d+$/.test(raw)) throw new Invalid(rule);
      const value = Number(raw);
      if (value < range.min || value > range.max) throw new Invalid(rule);
      return value;
    },
    absent: required,
    secret: false,
  };
}

export function oneOf<const V extends string>(values: readonly V[]): Field<V> {
  return {
    parse: (raw) => {
      if (!(values as readonly string[]).includes(raw)) throw new Invalid(`must be one of ${values.join(', ')}`);
      return raw as V;
    },
    absent: required,
    secret: false,
  };
}

/** A secret; `minLength` refuses values too short to be one (a shared token guessed in a few tries). */
export function secret(rule: { minLength?: number } = {}): Field<Secret> {
  return {
    parse: (raw) => {
      if (rule.minLength !== undefined && raw.length < rule.minLength) throw new Invalid(`must be at least ${rule.minLength} characters`);
      return new Secret(raw);
    },
    absent: required,
    secret: true,
  };
}

/** A path to a file that must be readable now (a mounted key); the value is the file's content. */
export function fileContent(readFile: (path: string) => Buffer = (path) => readFileSync(path)): Field<Buffer> {
  return {
    parse: (raw) => {
      try {
        return readFile(raw);
      } catch (err) {
        throw new Invalid(`names a file that cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      }
    },
    absent: required,
    secret: false,
  };
}

export function optional<T>(field: Field<T>): Field<T | undefined> {
  return { ...field, absent: () => undefined };
}

export function withDefault<T>(field: Field<T>, value: T): Field<T> {
  return { ...field, absent: () => value };
}

export type EnvSpec = Readonly<Record<string, Field<unknown>>>;
export type ConfigOf<S extends EnvSpec> = { readonly [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export type ReadFile = (path: string) => string;
const readUtf8: ReadFile = (path) => readFileSync(path, 'utf8');

/** Reads every variable of `spec` from `env`; throws one ConfigError listing all problems. */
export function loadEnv<S extends EnvSpec>(spec: S, env: Env = process.env, readFile: ReadFile = readUtf8): ConfigOf<S> {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(spec)) {
    let subject = name;
    try {
      const raw = field.secret ? readSecret(name, env, readFile) : nonEmpty(env[name]);
      if (raw === undefined && field.secret) subject = `${name} (or ${name}_FILE)`;
      config[name] = raw === undefined ? field.absent() : field.parse(raw);
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      problems.push(`${err.subject ?? subject} ${err.message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config as ConfigOf<S>;
}

const nonEmpty = (value: string | undefined): string | undefined => (value === '' ? undefined : value);

function readSecret(name: string, env: Env, readFile: ReadFile): string | undefined {
  const direct = nonEmpty(env[name]);
  const file = nonEmpty(env[`${name}_FILE`]);
  if (direct !== undefined && file !== undefined) {
    throw new Invalid(`and ${name}_FILE are both set; set only one`);
  }
  if (file === undefined) return direct;
  let content: string;
  try {
    content = readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new Invalid(`names a file that cannot be read (${code})`, `${name}_FILE`);
  }
  // Secrets written with `echo` or `kubectl create secret --from-file` often end in a newline that is not
  // part of the value; inner and leading whitespace is kept.
  const value = content.replace(/[\r\n]+$/, '');
  if (value === '') throw new Invalid('names an empty file', `${name}_FILE`);
  return value;
}
