// The MDS's `RevocationPort` over the directory's typed client (src/directory/api/,
// docs/directory.md): `POST /v1/secure-elements/{seId}/status` with status `revoked`, under the MDS
// participant's key (the directory lets the `mds` role change statuses). An SE revoked already is
// revoked (another alert blamed it first); any other refusal is kept on the alert, since asking again
// would be refused again (e.g. an SE it never registered); a refusal of the MDS's own key or a directory that does not answer is `mdsDirectoryUnavailable`, retried by
// the next maintenance run under the same idempotency key.
import { isCbdcError } from '../../core/errors.ts';
import { DirectoryRefusal, type DirectoryClient } from '../../directory/api/client.ts';
import { mdsError } from '../api/errors.ts';
import type { DenyListPort, RevocationOutcome, RevocationPort } from '../domain/ports.ts';
import type { Bytes } from '../../core/bytes.ts';
import { encodeSigned } from '../../core/signed.ts';

/** The directory client's own failures: no answer after its retries, or an answer that does not decode. */
const unanswered = new Set(['directoryUnavailable', 'directoryAnswerInvalid']);
/**
 * Refusals of the MDS's own key or role: a deployment error that an operator mends, after which the
 * same request succeeds; so they are retried like an unanswered call, never kept on the alert.
 */
const refusedCaller = new Set(['apiKeyMissing', 'apiKeyUnknown', 'roleNotAllowed', 'storageUnavailable']);

/** The directory's public deny list (`GET /v1/deny-list`), for the enclave's revokedSigner detector. */
export class DirectoryDenyLists implements DenyListPort {
  constructor(private readonly client: DirectoryClient) {}

  async latest(): Promise<{ readonly version: number; readonly signed: Bytes }> {
    try {
      const list = await this.client.denyList();
      return { version: list.version, signed: encodeSigned(list.signed) };
    } catch (error) {
      if (isCbdcError(error) && unanswered.has(error.code))
        throw mdsError('mdsDirectoryUnavailable', error.message);
      throw error;
    }
  }
}

export class DirectoryRevocations implements RevocationPort {
  constructor(private readonly client: DirectoryClient) {}

  async revoke(seId: string, reason: string, idempotencyKey: string): Promise<RevocationOutcome> {
    try {
      await this.client.changeStatus(idempotencyKey, seId, { status: 'revoked', reason });
      return { kind: 'revoked' };
    } catch (error) {
      if (error instanceof DirectoryRefusal) {
        if (error.code === 'secureElementRevoked') return { kind: 'revoked' };
        if (refusedCaller.has(error.code))
          throw mdsError('mdsDirectoryUnavailable', `the directory refused the MDS: ${error.message}`);
        return { kind: 'refused', code: error.code, message: error.message };
      }
      if (isCbdcError(error) && unanswered.has(error.code))
        throw mdsError('mdsDirectoryUnavailable', error.message);
      throw error;
    }
  }
}
