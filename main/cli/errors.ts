import { GrokscopeError } from '../../core/errors.js';

/** A problem with what the user typed (a flag, a file argument): printed as it is, one line. */
export class UserError extends GrokscopeError {}
