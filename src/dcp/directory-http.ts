// The DCP's `DirectoryPort` over the directory's typed HTTP client (docs/directory.md). The client
// depends only on core and the directory's error catalogue, so the DCP may use it (import rules).
import { randomUUID } from 'node:crypto';
import { fromHex, toHex } from '../core/bytes.ts';
import type { Certificate } from '../core/certificate.ts';
import type { SignedDenyList } from '../core/deny-list.ts';
import type { PrincipalId } from '../core/ids.ts';
import { DirectoryClient, DirectoryRefusal } from '../directory/api/client.ts';
import type { DirectoryPort, DirectoryRecord, PeerDcpPort } from './domain/ports.ts';
import { dcpError } from './api/errors.ts';

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
      return { seId, dcpId: fromHex(record.dcpId)!, status: record.status };
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

/** Another DCP's HTTP API, for online transfers across DCPs. */
export class HttpPeers implements PeerDcpPort {
  constructor(private readonly timeoutMs = 5_000) {}

  async credit(endpoint: string, paymentId: string): Promise<void> {
    const response = await this.#fetch(`${endpoint.replace(/\/+$/, '')}/v1/credits`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ paymentId }),
    });
    if (response.status !== 201)
      throw dcpError('payeeNotFound', `the payee DCP answered ${response.status}: ${await response.text()}`);
  }

  async describe(endpoint: string): Promise<{ readonly dcpId: string; readonly poolAccountId: string }> {
    const response = await this.#fetch(`${endpoint.replace(/\/+$/, '')}/v1/dcp`, {});
    const body = (await response.json()) as { dcpId?: unknown; poolAccountId?: unknown };
    if (typeof body.dcpId !== 'string' || typeof body.poolAccountId !== 'string')
      throw dcpError('payeeNotFound', "the payee DCP's description does not decode");
    return { dcpId: body.dcpId, poolAccountId: body.poolAccountId };
  }

  /**
   * A peer that does not answer, times out or fails (5xx) is unavailable, not unknown: the outbox
   * keeps the operation and finishes it on a later retry, and the payer is told to retry (503).
   */
  async #fetch(url: string, init: RequestInit): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw dcpError(
        'dcpPeerUnavailable',
        `${url}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (response.status >= 500) throw dcpError('dcpPeerUnavailable', `${url} answered ${response.status}`);
    return response;
  }
}
