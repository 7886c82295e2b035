/**
 * What evaluations cost the host, counted per thread (a worker's engines all add here), for
 * `grokscope bench`'s `read_bytes_per_eval` and `host_ms_per_eval` (issue 36): bytes brought back
 * from the compute device by readouts (the WGSL engine's mapped reads, the tfjs graphs' `data()`
 * reads; the host readout reads nothing back) and milliseconds spent building records from
 * readouts (eval/record.ts: eigenvalues, spectra, alignment, progress measures).
 */
export const evalCounters = { records: 0, hostMs: 0, readBytes: 0 };

export function resetEvalCounters(): void {
  evalCounters.records = 0;
  evalCounters.hostMs = 0;
  evalCounters.readBytes = 0;
}

/** Adds the bytes of arrays a readout brought back from its device. */
export function countRead(...arrays: ({ byteLength: number } | undefined)[]): void {
  for (const a of arrays) if (a) evalCounters.readBytes += a.byteLength;
}
