import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { chooseCompose, ComposeEngineError, runCompose } from './engine.js';

test('chooseCompose: PGREPL_COMPOSE first, then v2 when `docker compose` answers, else docker-compose (v1)', () => {
  const rows: Array<[string | undefined, boolean, string[]]> = [
    [undefined, true, ['docker', 'compose']],
    [undefined, false, ['docker-compose']],
    ['', false, ['docker-compose']],
    ['   ', true, ['docker', 'compose']],
    ['docker-compose', true, ['docker-compose']],
    ['  podman   compose ', false, ['podman', 'compose']],
    ['/opt/bin/docker compose', false, ['/opt/bin/docker', 'compose']],
  ];
  for (const [configured, v2, expected] of rows) assert.deepEqual(chooseCompose(configured, v2), expected, `${JSON.stringify(configured)}, v2 ${v2}`);
});

test('a Compose command that is not installed is a ComposeEngineError naming it and PGREPL_COMPOSE', async () => {
  const saved = process.env.PGREPL_COMPOSE;
  process.env.PGREPL_COMPOSE = 'pgrepl-test-no-such-compose up';
  try {
    await assert.rejects(runCompose(tmpdir(), ['ps']), (error: Error) => {
      assert.ok(error instanceof ComposeEngineError);
      assert.match(error.message, /pgrepl-test-no-such-compose \(PGREPL_COMPOSE=pgrepl-test-no-such-compose up\) is not installed/);
      return true;
    });
  } finally {
    if (saved === undefined) delete process.env.PGREPL_COMPOSE;
    else process.env.PGREPL_COMPOSE = saved;
  }
});
