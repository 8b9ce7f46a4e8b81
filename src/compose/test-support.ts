import { validateComposeOptions, type ComposeOptions, type RawComposeOptions } from './options.js';

/** Validated options for tests, from flag-like strings. */
export function optionsFor(raw: RawComposeOptions = {}): ComposeOptions {
  return validateComposeOptions({ output: '/nonexistent/pgrepl-compose-test', ...raw });
}
