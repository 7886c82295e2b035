/** SQL literal formatting for batched inserts (numbers and identifiers we generate ourselves). */
export function num(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'NULL' : String(x);
}

export function str(s: string | null | undefined): string {
  return s === null || s === undefined ? 'NULL' : `'${s.replace(/'/g, "''")}'`;
}

export function doubleList(xs: number[]): string {
  return `[${xs.map((x) => (Number.isFinite(x) ? String(x) : 'NULL')).join(',')}]::DOUBLE[]`;
}
