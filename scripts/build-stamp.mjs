// The build's stamp: a hash of what the build reads (src/, package.json, the tsconfigs, scripts/build.mjs), which `npm run build`
// writes into dist/ and the test suite's global setup compares, so no test runs against a dist/ older than src/.
// Contents, not mtimes: a git checkout or a copy changes mtimes and not the build.
// Usage: node scripts/build-stamp.mjs (the last step of npm run build)
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const INPUTS = ['package.json', 'tsconfig.json', 'tsconfig.types.json', 'scripts/build.mjs'];
const STAMP = join('dist', 'build-stamp.json');

/** sha256 over the path and contents of every build input under root, in a fixed order. */
export function buildInputsHash(root) {
  const sources = readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split('\\').join('/'));
  const hash = createHash('sha256');
  for (const file of [...INPUTS, ...sources.sort()])
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(root, file)))
      .update('\0');
  return hash.digest('hex');
}

export function writeBuildStamp(root) {
  writeFileSync(join(root, STAMP), `${JSON.stringify({ inputs: buildInputsHash(root) })}\n`);
}

/** Why dist/ under root does not match its sources, in words a person can act on; undefined when it does. */
export function staleDistReason(root) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, STAMP), 'utf8'));
  } catch {
    return `dist/ has no build stamp (${STAMP}): run npm run build`;
  }
  if (stamp.inputs !== buildInputsHash(root)) return 'dist/ is stale: src/, package.json or a tsconfig changed since the last build: run npm run build';
  return undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writeBuildStamp(fileURLToPath(new URL('..', import.meta.url)));
