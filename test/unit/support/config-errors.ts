// Asserting on configuration errors.
import * as assert from 'uvu/assert';
import { ConfigError } from '../../../shared/env.js';

/** Runs `load` and returns the ConfigError's problems; fails the test if it does not throw one. */
export function problems(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (err) {
    assert.instance(err, ConfigError);
    return (err as ConfigError).problems;
  }
  assert.unreachable('expected a ConfigError');
  return [];
}
