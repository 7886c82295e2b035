import { GrokscopeError } from '../../errors.js';

/** A request to export that cannot be met (what and why, in one line); nothing has been written. */
export class ExportError extends GrokscopeError {}
