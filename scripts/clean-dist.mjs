// Empties dist/ before a build. tsc only ever adds and overwrites: a test file deleted or renamed in
// src/ or test/ would keep its old .js in dist/, and `npm test` (every dist/**/*.test.js) would run
// it stale. tsc recompiles everything on every build anyway (no incremental state), and the bundle
// and its V8 code cache are rewritten by scripts/bundle.mjs each time, so starting empty costs only
// the removal (~0.1 s).
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
