import { setFlagsFromString } from 'node:v8';

/**
 * For a command about to load the SQL parser's WebAssembly: V8 would otherwise recompile it with its optimising
 * tier in background threads, and Node waits for those threads before the process exits, adding 300-500 ms to a
 * command that parsed anything (measured: bench/lint.mjs). The baseline tier (Liftoff) parses migrations fast
 * enough. Process-wide and for WebAssembly compiled afterwards only, so it is set by CLI commands, never by the
 * library the app imports.
 */
export function useBaselineWasmTier(): void {
  setFlagsFromString('--liftoff-only');
}
