import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { OsUser } from '../pg/os-user.js';
import { removeTree } from './remove-tree.js';

const me = userInfo();
const self: OsUser = { name: me.username, uid: me.uid, gid: me.gid, home: me.homedir, switchTo: false };

async function scratch(t: { after(fn: () => Promise<void>): void }): Promise<{ root: string; outside: string }> {
  const base = await mkdtemp(join(tmpdir(), 'pgrepl-remove-tree-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = join(base, 'cluster');
  const outside = join(base, 'outside');
  await mkdir(join(root, 'nodes', 'pg1', 'data', 'base'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'keep'), 'keep');
  await writeFile(join(root, 'nodes', 'pg1', 'data', 'base', 'f'), 'x');
  return { root, outside };
}

test('removes a tree, deleting links found in it but nothing they point to', async (t) => {
  const { root, outside } = await scratch(t);
  await symlink(outside, join(root, 'nodes', 'pg1', 'data', 'link'));
  await symlink(join(outside, 'keep'), join(root, 'nodes', 'pg1', 'data', 'base', 'filelink'));
  await removeTree(root, join(root, 'nodes'), self);
  assert.deepEqual(await readdir(root), []);
  assert.deepEqual(await readdir(outside), ['keep']);
});

test('a link as the tree itself is removed as a name, not followed', async (t) => {
  const { root, outside } = await scratch(t);
  await symlink(outside, join(root, 'gone'));
  await removeTree(root, join(root, 'gone'), self);
  assert.deepEqual(await readdir(outside), ['keep']);
  await assert.rejects(stat(join(root, 'gone')), { code: 'ENOENT' });
});

test('a link on the way to the tree is refused by name', async (t) => {
  const { root, outside } = await scratch(t);
  await mkdir(join(outside, 'data'));
  await writeFile(join(outside, 'data', 'f'), 'x');
  await symlink(outside, join(root, 'nodes', 'pg2'));
  await assert.rejects(removeTree(root, join(root, 'nodes', 'pg2', 'data'), self), /nodes\/pg2 is a symlink/);
  assert.deepEqual(await readdir(join(outside, 'data')), ['f']);
});

test('an absent path is nothing to do; a path outside the root is a bug', async (t) => {
  const { root, outside } = await scratch(t);
  await removeTree(root, join(root, 'nodes', 'pg9', 'data'), self);
  await assert.rejects(removeTree(root, outside, self), /outside/);
});
