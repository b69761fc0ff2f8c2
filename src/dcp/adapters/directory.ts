// The DCP's `DirectoryPort` over the directory's typed client (src/directory/api/, docs/directory.md):
// every call has the client's timeout, bounded retries and strictly decoded answers. Every refusal
// of the directory becomes a DCP code here (docs/dcp.md, "Refusals of other services"): a
// registration's refusal is returned as the code it means for the device; any other refusal is about
// the DCP itself (its key, role or trust) and is `dcpDirectoryRefused`; a directory that does not
// answer is `dcpDirectoryUnavailable`. None reaches the error envelope as the directory's code.
import { randomUUID } from 'node:crypto';
import { AssertionFailed } from '../../core/assert.ts';
import { fromHex, toHex } from '../../core/bytes.ts';
import type { Certificate } from '../../core/certificate.ts';
import type { SignedDenyList } from '../../core/deny-list.ts';
import { principalIdBytes, type PrincipalId } from '../../core/ids.ts';
import { isCbdcError } from '../../core/errors.ts';
import { DirectoryClient, DirectoryRefusal } from '../../directory/api/client.ts';
import type { DirectoryAnswerCode } from '../../directory/api/errors.ts';
import { dcpError, isDcpErrorCode } from '../api/errors.ts';
import type { DirectoryPort, DirectoryRecord, RegistrationOutcome } from '../domain/ports.ts';

type Refused = Exclude<RegistrationOutcome, 'registered'>['refused'];

/**
 * What the directory's refusals of a registration mean for the device (src/directory/domain/rules.ts
 * `registrationOfKnown`): the SE id is the hash of the public key, so a record under another wallet or
 * with another certificate is this public key registered before, by another DCP or for another wallet.
 */
const registrationRefusals: Partial<Record<DirectoryAnswerCode, Refused>> = {
  secureElementOwnedByAnotherDcp: 'publicKeyAlreadyRegistered',
  secureElementWalletConflict: 'publicKeyAlreadyRegistered',
  secureElementCertificateConflict: 'publicKeyAlreadyRegistered',
  secureElementRevoked: 'deviceRevoked',
  secureElementNotActive: 'deviceSuspended',
};

export class HttpDirectory implements DirectoryPort {
  constructor(private readonly client: DirectoryClient) {}

  async register(certificate: Certificate, walletId: string): Promise<RegistrationOutcome> {
    try {
      await this.client.registerSecureElement(`dcp-register-${toHex(certificate.body.subjectId)}`, {
        certificate,
        walletId,
      });
      return 'registered';
    } catch (error) {
      if (!(error instanceof DirectoryRefusal)) throw unavailable(error);
      const message = `the directory answered ${error.code}: ${error.message}`;
      return { refused: registrationRefusals[error.code] ?? 'dcpDirectoryRefused', message };
    }
  }

  async lookup(seId: PrincipalId): Promise<DirectoryRecord | null> {
    const record = await notFoundAsNull(() => this.client.secureElement(toHex(seId)));
    if (record === null) return null;
    return { seId, dcpId: directoryId(record.dcpId, 'secureElement.dcpId'), status: record.status };
  }

  async denyList(): Promise<SignedDenyList> {
    return (await refusalsTranslated(() => this.client.denyList())).signed;
  }

  async dcpEndpoint(dcpId: PrincipalId): Promise<string | null> {
    return (await notFoundAsNull(() => this.client.dcpEndpoint(toHex(dcpId))))?.baseUrl ?? null;
  }

  async publishEndpoint(dcpId: PrincipalId, url: string): Promise<void> {
    // A fresh key per publication (the client retries it with the same key): a key derived from the
    // URL would make the directory replay an old answer, without storing anything, when a DCP comes
    // back to an address it had before (A, then B, then A again would leave B in the directory).
    await refusalsTranslated(() =>
      this.client.putDcpEndpoint(`dcp-endpoint-${randomUUID()}`, toHex(dcpId), { baseUrl: url }),
    );
  }
}

/** A read whose 404 means "not there"; every other refusal is translated. */
async function notFoundAsNull<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof DirectoryRefusal && error.status === 404) return null;
    throw translated(error);
  }
}

async function refusalsTranslated<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translated(error);
  }
}

function translated(error: unknown): unknown {
  if (error instanceof DirectoryRefusal)
    return dcpError('dcpDirectoryRefused', `the directory answered ${error.code}: ${error.message}`);
  return unavailable(error);
}

/** The client's `directoryUnavailable` and `directoryAnswerInvalid`, and anything below it. */
function unavailable(error: unknown): unknown {
  if ((isCbdcError(error) && isDcpErrorCode(error.code)) || error instanceof AssertionFailed) return error;
  return dcpError('dcpDirectoryUnavailable', error instanceof Error ? error.message : String(error));
}

/** An id the directory answered (its client checked 32 hex digits); anything else does not decode. */
function directoryId(hex: string, field: string): PrincipalId {
  const bytes = fromHex(hex);
  if (bytes?.length !== principalIdBytes)
    throw dcpError('dcpDirectoryUnavailable', `the directory's ${field} is not a 16-byte id`);
  return bytes;
}
