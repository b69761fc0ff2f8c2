// Another DCP's API, for online transfers across DCPs (`PeerDcpPort`), over the DCP's own typed
// client (src/dcp/api/client.ts): a timeout, a bounded answer, decoded fields.
//
// A peer that does not answer, times out or fails (5xx) is unavailable, not unknown: the outbox keeps
// the operation and finishes it on a later retry, and the payer is told to retry (503). A peer that
// refuses, or answers something that does not decode, is not a DCP that will take the credit.
import { isCbdcError } from '../../core/errors.ts';
import { DcpClient } from '../api/client.ts';
import { dcpError } from '../api/errors.ts';
import type { PeerDcpPort } from '../domain/ports.ts';
import { keepAliveTransport } from '../../node-http/keep-alive-transport.ts';

export interface HttpPeersOptions {
  /** Per call; the outbox retries a failed call on its next pass. */
  readonly timeoutMs?: number;
  readonly attemptsMax?: number;
}

export class HttpPeers implements PeerDcpPort {
  constructor(private readonly options: HttpPeersOptions = {}) {}

  async credit(endpoint: string, paymentId: string): Promise<void> {
    await this.#call(endpoint, (client) => client.credit({ paymentId }));
  }

  async describe(endpoint: string): Promise<{ readonly dcpId: string; readonly poolAccountId: string }> {
    const described = await this.#call(endpoint, (client) => client.describe());
    return { dcpId: described.dcpId, poolAccountId: described.poolAccountId };
  }

  async #call<T>(endpoint: string, call: (client: DcpClient) => Promise<T>): Promise<T> {
    const client = new DcpClient({
      baseUrl: endpoint,
      transport: keepAliveTransport,
      timeoutMs: this.options.timeoutMs ?? 5_000,
      attemptsMax: this.options.attemptsMax ?? 1,
    });
    try {
      return await call(client);
    } catch (error) {
      if (isCbdcError(error) && error.code === 'dcpUnavailable')
        throw dcpError('dcpPeerUnavailable', `${endpoint}: ${error.message}`);
      if (isCbdcError(error))
        throw dcpError('payeeNotFound', `the payee DCP at ${endpoint} refused: ${error.message}`);
      throw error;
    }
  }
}
