/** `--name N` from the command line as a number, or `fallback` when the flag is absent (the scripts' one option parser). */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** `--name a,b` from the command line as a list, or `fallback` when the flag is absent. */
export function listArg(name: string, fallback: string): string[] {
  const i = process.argv.indexOf(`--${name}`);
  return (i > 0 ? process.argv[i + 1] : fallback).split(',');
}
