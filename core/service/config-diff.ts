/**
 * The configuration fields that differ between compared runs (all others are shared and not
 * shown): for each, its distinct values with the runs that have them — so comparing runs of
 * different configurations says how they differ. Values are compared as canonical JSON; fields a
 * run lacks count as "—".
 */
export interface ConfigDifference {
  field: string;
  values: { value: string; runs: string[] }[];
}

export function configDifferences(runs: { id: string; config: Record<string, unknown> }[]): ConfigDifference[] {
  const fields = [...new Set(runs.flatMap((r) => Object.keys(r.config)))];
  const out: ConfigDifference[] = [];
  for (const field of fields) {
    const byValue = new Map<string, string[]>();
    for (const r of runs) {
      const v = r.config[field];
      const text = v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v);
      byValue.set(text, [...(byValue.get(text) ?? []), r.id]);
    }
    if (byValue.size > 1) out.push({ field, values: [...byValue].map(([value, ids]) => ({ value, runs: ids })) });
  }
  return out;
}
