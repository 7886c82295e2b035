/**
 * Core's validation messages, placed next to the fields they name. Core says "invalid run:
 * lr: Number must be greater than 0; p: must be a prime for mod-add (got 12)" (run config) or
 * "startRun: invalid arguments: 0.lr: …" (the transport's argument check): one "field: problem"
 * per issue, separated by "; ". Problems naming no field of the form stay in the form's own line.
 */
export function fieldErrors(message: string, fields: readonly string[]): { byField: Record<string, string>; rest: string | null } {
  const body = message.replace(/^[A-Za-z]+: invalid arguments: /, '').replace(/^invalid (run|study spec|spec)[^:]*: /, '');
  const byField: Record<string, string> = {};
  const rest: string[] = [];
  for (const part of body.split('; ')) {
    const m = /^(?:\d+\.)?([A-Za-z][A-Za-z0-9]*)(?:\.[^:]*)?: (.*)$/.exec(part);
    if (m && fields.includes(m[1])) byField[m[1]] = byField[m[1]] ? `${byField[m[1]]}; ${m[2]}` : m[2];
    else rest.push(part);
  }
  return { byField, rest: rest.length ? rest.join('; ') : null };
}
