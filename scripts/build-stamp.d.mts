// Types for test/helpers/global-setup.ts and test/build-stamp.test.ts.
export function buildInputsHash(root: string): string;
export function writeBuildStamp(root: string): void;
export function staleDistReason(root: string): string | undefined;
