import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { firstLine } from '../errors.js';
import { EXTERNAL_SETTINGS, ExternalSettingsError, type RawExternalSettings } from './external.js';

// A config table for `import --config-table`: one external file per row with its own settings
// (split from external.ts, which imports the files themselves).

/**
 * The records of a small CSV, each with the line it starts on: RFC 4180 (fields in double quotes
 * may hold commas, newlines and "" for a quote; LF or CRLF; a leading BOM is dropped); blank lines
 * and rows of empty cells are skipped. Config tables are read with this rather than DuckDB's
 * read_csv because they are a few hand- or pandas-written lines whose cells we want exactly as
 * written: no type sniffing (a seed column read as BIGINT, '0.30' as 0.3, a one-column table's
 * delimiter guessed), no library session, and the line numbers a refusal names.
 */
export function parseCsv(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let quoteLine = 1;
  const endRow = (): void => {
    cells.push(field);
    if (cells.some((c) => c.trim() !== '')) rows.push({ line: rowLine, cells });
    cells = [];
    field = '';
  };
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let i = 0; i < t.length; i++) {
    const ch = t[i];
    if (quoted) {
      if (ch === '"' && t[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field.trim() === '') {
      quoted = true;
      quoteLine = line;
      field = '';
    } else if (ch === ',') {
      cells.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && t[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else field += ch;
  }
  if (quoted) throw new ExternalSettingsError(`the quoted field that starts on line ${quoteLine} is not closed`);
  endRow();
  return rows;
}

export interface ConfigTableRow {
  /** Line of the table the row starts on (the header is line 1). */
  line: number;
  /** The file to import, resolved against the table's folder. */
  file: string;
  settings: RawExternalSettings;
  /** Why this row cannot be imported (its settings are not checked here: parseExternalSettings does that). */
  error?: string;
}

export const MAX_CONFIG_TABLE_BYTES = 16 * 2 ** 20;

/**
 * A config table: one row per external file with its own settings. Columns: `file` (required;
 * relative to the table's folder, or absolute) and any of EXTERNAL_SETTINGS (header names in any
 * case, `-` or space for `_`). A problem with the table as a whole (unreadable, no `file` column,
 * a column we do not know) throws an ExternalSettingsError; a problem with one row is that row's
 * `error`, so the other rows can still be imported.
 */
export function readConfigTable(table: string): ConfigTableRow[] {
  const what = `config table ${path.basename(table)}`;
  if (!existsSync(table) || !statSync(table).isFile()) throw new ExternalSettingsError(`${what}: no such file`);
  if (statSync(table).size > MAX_CONFIG_TABLE_BYTES) throw new ExternalSettingsError(`${what}: over ${MAX_CONFIG_TABLE_BYTES} bytes; a config table has a row per file`);
  let records: { line: number; cells: string[] }[];
  try {
    records = parseCsv(readFileSync(table, 'utf8'));
  } catch (err) {
    throw new ExternalSettingsError(`${what}: ${firstLine(err)}`);
  }
  if (records.length === 0) throw new ExternalSettingsError(`${what}: empty (it needs a header with a 'file' column)`);
  const header = records[0].cells.map((c) => c.trim().toLowerCase().replace(/[-\s]+/g, '_'));
  const known: readonly string[] = ['file', ...EXTERNAL_SETTINGS];
  const unknown = header.filter((h) => !known.includes(h));
  if (unknown.length) throw new ExternalSettingsError(`${what}: unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')} (columns: ${known.join(', ')})`);
  const twice = header.find((h, i) => header.indexOf(h) !== i);
  if (twice) throw new ExternalSettingsError(`${what}: column '${twice}' appears twice`);
  if (!header.includes('file')) throw new ExternalSettingsError(`${what}: no 'file' column (its columns are ${header.join(', ')})`);
  const dir = path.dirname(path.resolve(table));
  return records.slice(1).map(({ line, cells }) => {
    const cell = (h: string): string => (cells[header.indexOf(h)] ?? '').trim();
    const name = cell('file');
    const settings: RawExternalSettings = {};
    for (const h of EXTERNAL_SETTINGS) if (header.includes(h) && cell(h) !== '') settings[h] = cell(h);
    const row: ConfigTableRow = { line, file: name === '' ? '' : path.resolve(dir, name), settings };
    if (cells.length > header.length) row.error = `${cells.length} cells but the header has ${header.length} columns`;
    else if (name === '') row.error = 'no file named';
    return row;
  });
}
