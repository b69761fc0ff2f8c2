// Every error catalogue of the project, in one list. `docs/errors.md` is generated from it
// (`npm run docs:errors`) and a test keeps the two in step and the numbers unique.
import { coreErrors, type ErrorCatalogue } from './core/errors.ts';
import { dcpErrors } from './dcp/api/errors.ts';
import { ledgerErrors } from './ledger/api/errors.ts';
import { directoryErrors } from './directory/api/errors.ts';
import { mdsErrors } from './mds/api/errors.ts';
import { pcscErrors } from './pcsc/errors.ts';
import { serviceErrors } from './service-kit/service-errors.ts';

export interface CatalogueEntry {
  readonly component: string;
  readonly catalogue: ErrorCatalogue;
}

export const catalogues: readonly CatalogueEntry[] = [
  { component: 'core', catalogue: coreErrors },
  // The generic codes every HTTP service answers with (service-kit/service-errors.ts).
  { component: 'service', catalogue: serviceErrors },
  { component: 'ledger', catalogue: ledgerErrors },
  { component: 'dcp', catalogue: dcpErrors },
  { component: 'directory', catalogue: directoryErrors },
  { component: 'mds', catalogue: mdsErrors },
  { component: 'pcsc', catalogue: pcscErrors },
];
