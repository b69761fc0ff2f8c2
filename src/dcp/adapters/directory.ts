// The DCP's `DirectoryPort` over the directory's typed client (src/directory/api/, docs/directory.md):
// every call has the client's timeout, bounded retries and strictly decoded answers.
import { randomUUID } from 'node:crypto';
import { fromHex, toHex } from '../../core/bytes.ts';
import type { Certificate } from '../../core/certificate.ts';
import type { SignedDenyList } from '../../core/deny-list.ts';
import { principalIdBytes, type PrincipalId } from '../../core/ids.ts';
import { DirectoryClient, DirectoryRefusal } from '../../directory/api/client.ts';
import { dcpError } from '../api/errors.ts';
import type { DirectoryPort, DirectoryRecord } from '../domain/ports.ts';

export class HttpDirectory implements DirectoryPort {
  constructor(private readonly client: DirectoryClient) {}

  async register(certificate: Certificate, walletId: string): Promise<void> {
    await this.client.registerSecureElement(`dcp-register-${toHex(certificate.body.subjectId)}`, {
      certificate,
      walletId,
    });
  }

  async lookup(seId: PrincipalId): Promise<DirectoryRecord | null> {
    try {
      const record = await this.client.secureElement(toHex(seId));
      return { seId, dcpId: directoryId(record.dcpId, 'secureElement.dcpId'), status: record.status };
    } catch (error) {
      if (error instanceof DirectoryRefusal && error.status === 404) return null;
      throw error;
    }
  }

  async denyList(): Promise<SignedDenyList> {
    return (await this.client.denyList()).signed;
  }

  async dcpEndpoint(dcpId: PrincipalId): Promise<string | null> {
    try {
      return (await this.client.dcpEndpoint(toHex(dcpId))).baseUrl;
    } catch (error) {
      if (error instanceof DirectoryRefusal && error.status === 404) return null;
      throw error;
    }
  }

  async publishEndpoint(dcpId: PrincipalId, url: string): Promise<void> {
    // A fresh key per publication (the client retries it with the same key): a key derived from the
    // URL would make the directory replay an old answer, without storing anything, when a DCP comes
    // back to an address it had before (A, then B, then A again would leave B in the directory).
    await this.client.putDcpEndpoint(`dcp-endpoint-${randomUUID()}`, toHex(dcpId), { baseUrl: url });
  }
}

/** An id the directory answered (its client checked 32 hex digits); anything else does not decode. */
function directoryId(hex: string, field: string): PrincipalId {
  const bytes = fromHex(hex);
  if (bytes?.length !== principalIdBytes)
    throw dcpError('dcpDirectoryUnavailable', `the directory's ${field} is not a 16-byte id`);
  return bytes;
}
