/** Table sizes as the lint's messages and the lock plan say them. */
export interface TableSize {
  name: string;
  /** Estimated rows (pg_class.reltuples); null when never analyzed. */
  rows: number | null;
  bytes: number;
}

export function describeSize(table: TableSize): string {
  const rows = table.rows === null ? 'an unknown number of rows (never analyzed)' : `about ${formatRows(table.rows)} rows`;
  return `${table.name} has ${rows} (${formatBytes(table.bytes)})`;
}

export const formatRows = (rows: number): string => Math.round(rows).toLocaleString('en-US');

export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} kB`;
  if (bytes < 1024 ** 3) return `${Math.round((bytes / 1024 ** 2) * 10) / 10} MB`;
  return `${Math.round((bytes / 1024 ** 3) * 10) / 10} GB`;
}
