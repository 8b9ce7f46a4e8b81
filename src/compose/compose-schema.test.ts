import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { renderComposeFile } from './compose-file.js';
import { optionsFor } from './test-support.js';

/**
 * The Compose Specification's JSON schema, vendored from compose-spec/compose-spec
 * (schema/compose-spec.json at 170098ba07d9). Read from the source tree: tsc does not copy JSON.
 */
const SCHEMA_PATH = fileURLToPath(new URL('../../../src/compose/compose-spec.schema.json', import.meta.url));

function composeValidator() {
  // The schema is written for lenient validators (union types, untyped patternProperties), so
  // Ajv's strict type checks are off; everything the schema states is still enforced.
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false });
  const { $schema, ...schema } = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
  // Draft-07, which Ajv's default class implements; it names it by an https address Ajv knows only
  // with http, so the name is checked here and dropped.
  assert.equal($schema, 'https://json-schema.org/draft-07/schema');
  return ajv.compile(schema);
}

const validate = composeValidator();

for (const flags of [{}, { replicas: '3', sync: '2', pgadmin: true }, { pgVersion: '13' }, { pgVersion: '18', bind: '0.0.0.0', port: '6543' }, { subnet: '10.9.8.0/24', bind: '::1' }]) {
  test(`docker-compose.yml is valid against the Compose Specification schema: ${JSON.stringify(flags)}`, () => {
    const model: unknown = parse(renderComposeFile(optionsFor(flags)));
    assert.ok(validate(model), JSON.stringify(validate.errors, null, 2));
  });
}

test('the validator does reject a malformed file (the schema is really applied)', () => {
  assert.equal(validate({ services: { primary: { image: 'postgres:17', user_name: 'root' } } }), false);
  assert.equal(validate({ services: { primary: { image: 'postgres:17', depends_on: { a: { condition: 'healthy' } } } } }), false);
});
