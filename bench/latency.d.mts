// Types for the tests that count round trips through the proxy (test/round-trips.test.ts).
export interface RoundTripCounts {
  connections: number;
  roundTrips: number;
}

export interface LatencyProxy {
  port: number;
  counts(): RoundTripCounts;
  reset(): void;
  close(): Promise<void>;
}

export function startLatencyProxy(options: { target: { host: string; port: number }; rttMs: number }): Promise<LatencyProxy>;
export function throughProxy(url: string, proxy: { port: number }, host?: string): string;
