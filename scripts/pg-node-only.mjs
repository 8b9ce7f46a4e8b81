// An esbuild plugin: pg's Node-only paths, without its probes for other runtimes. pg decides at
// load whether it runs in a Cloudflare Worker by constructing a fetch Response, which on Node 20
// loads all of undici (~17 ms, a tenth of a failover); and it does SCRAM through WebCrypto, whose
// first use loads a stack of Node internals (~3 ms on a failover's first connections). pgrepl only
// runs on Node: the socket functions are pg's own Node branch, and the crypto helpers keep pg's
// interface over node:crypto (every integration test authenticates through them).
//
// The files replaced are pg's private modules: the build fails, naming the file, if one no longer
// exports exactly what its replacement does (a pg release changed it; look at it again).
import { readFileSync } from 'node:fs';

const REPLACEMENTS = [
  {
    file: /[\\/]pg[\\/]lib[\\/]stream\.js$/,
    exports: ['getStream', 'getSecureStream'],
    contents: `module.exports = {
  getStream: () => new (require('net').Socket)(),
  getSecureStream: (options) => require('tls').connect(options),
};`,
  },
  {
    file: /[\\/]pg[\\/]lib[\\/]crypto[\\/]utils\.js$/,
    exports: ['postgresMd5PasswordHash', 'randomBytes', 'deriveKey', 'sha256', 'hashByName', 'hmacSha256', 'md5'],
    contents: `const crypto = require('crypto');
const { promisify } = require('util');
const pbkdf2 = promisify(crypto.pbkdf2);
const md5 = async (data) => crypto.createHash('md5').update(data, 'utf-8').digest('hex');
module.exports = {
  md5,
  postgresMd5PasswordHash: async (user, password, salt) => 'md5' + (await md5(Buffer.concat([Buffer.from(await md5(password + user)), salt]))),
  randomBytes: (length) => crypto.randomBytes(length),
  deriveKey: (password, salt, iterations) => pbkdf2(password, salt, iterations, 32, 'sha256'),
  sha256: async (data) => crypto.createHash('sha256').update(data).digest(),
  hashByName: async (name, data) => crypto.createHash(name.replace('-', '').toLowerCase()).update(data).digest(),
  hmacSha256: async (key, message) => crypto.createHmac('sha256', Buffer.from(key)).update(message).digest(),
};`,
  },
];

/** The names in a CommonJS file's `module.exports = { a, b: ..., }`. */
function exportedNames(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const body = /module\.exports\s*=\s*\{([^}]*)\}/.exec(code)?.[1] ?? '';
  return body.split(',').map((entry) => entry.split(':')[0].trim()).filter(Boolean).sort();
}

export const pgNodeOnly = {
  name: 'pg-node-only',
  setup(build) {
    for (const { file, exports, contents } of REPLACEMENTS) {
      build.onLoad({ filter: file }, (args) => {
        const found = exportedNames(readFileSync(args.path, 'utf8'));
        if (found.join() !== [...exports].sort().join()) {
          return { errors: [{ text: `${args.path} exports ${found.join(', ')}, not ${exports.join(', ')}: pg changed a file scripts/pg-node-only.mjs replaces` }] };
        }
        return { loader: 'js', contents };
      });
    }
  },
};
