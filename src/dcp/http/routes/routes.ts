// What every DCP routes file is given: the app, the domain's context, the metrics, the caller of an
// administrative route, and the signed limits and deny list a device is answered.
import type { FastifyRequest } from 'fastify';
import { toHex } from '../../../core/bytes.ts';
import type { SecureElementKind } from '../../../core/certificate.ts';
import type { SignedDenyList } from '../../../core/deny-list.ts';
import { encodeSigned } from '../../../core/signed.ts';
import type { ServiceApp } from '../../../service-kit/app.ts';
import type { DcpContext } from '../../domain/context.ts';
import type { ParticipantRow } from '../../domain/ports.ts';
import type { DcpMetrics } from '../metrics.ts';

export interface DcpRoutes {
  readonly app: ServiceApp;
  readonly context: DcpContext;
  readonly metrics: DcpMetrics;
  /** The participant of an administrative route (authenticated in onRequest). */
  readonly caller: (request: FastifyRequest) => ParticipantRow;
  readonly updates: Updates;
}

/** OpenAPI: administrative routes take an API key. */
export const security = [{ apiKey: [] }];

export interface Updates {
  /** Both kinds' signed limits and the newest full deny list (every settlement's answer). */
  all(): Promise<{
    readonly limits: { readonly card: string; readonly phone: string };
    readonly denyList: string;
  }>;
  /** One kind's limits and the deny list (UPDATE LIMITS, UPDATE DENY LIST). */
  of(kind: SecureElementKind): Promise<{ readonly limits: string; readonly denyList: string }>;
}

/**
 * The signed limits and the newest full deny list, as hex. The limits are fixed for the process and
 * each deny list is encoded once, not once per answer.
 */
export function updatesOf(context: DcpContext): Updates {
  const limits = {
    card: toHex(encodeSigned(context.limitsByKind.card)),
    phone: toHex(encodeSigned(context.limitsByKind.phone)),
  };
  let encoded: { readonly list: SignedDenyList; readonly hex: string } | undefined;
  const denyList = async () => {
    const list = await context.denyList();
    if (encoded?.list !== list) encoded = { list, hex: toHex(encodeSigned(list)) };
    return encoded.hex;
  };
  return {
    all: async () => ({ limits, denyList: await denyList() }),
    of: async (kind) => ({ limits: limits[kind], denyList: await denyList() }),
  };
}
