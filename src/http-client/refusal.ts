// A service's typed refusal as its clients see it: a `CbdcError` with the code the service answered
// (from its catalogue) and the HTTP status. Each client subclasses `catalogueRefusal(...)`
// (`LedgerRefusal`, `DirectoryRefusal`) so that callers can tell whose refusal they hold with
// `instanceof`.
import { CbdcError, type ErrorDefinition } from '../core/errors.ts';

export class ServiceRefusal<Code extends string> extends CbdcError<Code> {
  constructor(
    code: Code,
    definition: ErrorDefinition,
    readonly status: number,
    message: string,
  ) {
    super(code, definition, message);
  }
}

/** The refusal class of a service whose codes `definition` knows: `class XRefusal extends catalogueRefusal(...) {}`. */
export function catalogueRefusal<Code extends string>(definition: (code: Code) => ErrorDefinition) {
  return class extends ServiceRefusal<Code> {
    constructor(code: Code, status: number, message: string) {
      super(code, definition(code), status, message);
    }
  };
}
