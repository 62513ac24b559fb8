let loadsInProgress = 0;

/**
 * V8 compiles a WebAssembly module with its baseline compiler, then optimises it again on background threads, and
 * Node waits for those threads before it exits: 0.5 to 2 s after the work is done, for a parser or a schema engine
 * that runs for milliseconds per call. Baseline code does that work as fast. The flag applies to modules compiled
 * while it is set, so it is set only around such a load, and the app's other WebAssembly keeps V8's default.
 * Counted: loads may overlap (setup parses migrations while smoke's Prisma Client connects), and the flag stays
 * set until the last one ends. node:v8 is taken here, not imported: loading it (and its heap utilities) costs a
 * command that never loads WebAssembly about 2 ms.
 */
export async function compiledBaselineOnly<T>(load: () => Promise<T>): Promise<T> {
  const v8 = process.getBuiltinModule('node:v8');
  if (loadsInProgress++ === 0) v8.setFlagsFromString('--liftoff-only');
  try {
    return await load();
  } finally {
    if (--loadsInProgress === 0) v8.setFlagsFromString('--no-liftoff-only');
  }
}
