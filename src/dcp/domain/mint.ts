// Minting: the DCP's issuer key signs issuances (DESIGN §4) with a request reference derived from the
// operation, so one operation can never mint the same reference twice (the store's unique key on
// request_reference is the last line of defence: invariant 3).
import { toHex, utf8, type Bytes } from '../../core/bytes.ts';
import { purposes, type Signer, type Verifier } from '../../core/crypto.ts';
import { requestReferenceBytes, tokenIdOf, type PrincipalId, type TokenId } from '../../core/ids.ts';
import { issuanceBodyToCbor, type Issuance, type IssuanceKind, type Output } from '../../core/issuance.ts';
import { encodeSigned, signBody } from '../../core/signed.ts';
import type { IssuanceRow } from './ports.ts';

export interface Minted {
  readonly issuance: Issuance;
  readonly row: IssuanceRow;
}

export function requestReferenceOf(verifier: Verifier, operationId: string, part: string): Bytes {
  return verifier
    .sha256(utf8(`cbdc/dcp/reference/v1/${operationId}/${part}`))
    .subarray(0, requestReferenceBytes);
}

/** The DCP that signs: its issuer key, its hash and its id (a `DcpContext` is one). */
export interface Issuer {
  readonly signer: Signer;
  readonly verifier: Verifier;
  readonly dcpId: PrincipalId;
}

export interface MintOrder {
  readonly issuer: Issuer;
  /** The operation the issuance belongs to; with the kind, it derives the request reference. */
  readonly operationId: string;
  readonly kind: IssuanceKind;
  readonly seId: PrincipalId;
  /** One output per value, each owned by `seId`. */
  readonly values: readonly bigint[];
  /** The vouched part of each output (ports.ts `MintedToken`); all of it when left out. */
  readonly vouched?: readonly bigint[];
  readonly retiredTokenIds: readonly TokenId[];
  /** Seconds; see `nextIssuanceTime`. */
  readonly time: number;
}

export function mint(order: MintOrder): Minted {
  const { issuer, operationId, kind, seId, values, retiredTokenIds, time } = order;
  const outputs: Output[] = values.map((value) => ({ value, owner: seId }));
  // One issuance of each kind per operation: the kind is the reference's part.
  const requestReference = requestReferenceOf(issuer.verifier, operationId, kind);
  const issuance = signBody(
    issuer.signer,
    purposes.issuance,
    { dcpId: issuer.dcpId, kind, requestReference, outputs, retiredTokenIds, time },
    issuanceBodyToCbor,
  );
  const id = issuer.verifier.sha256(issuance.bodyBytes);
  return {
    issuance,
    row: {
      id: toHex(id),
      requestReference: toHex(requestReference),
      kind,
      seId: toHex(seId),
      value: values.reduce((sum, value) => sum + value, 0n),
      operationId,
      signed: toHex(encodeSigned(issuance)),
      time,
      tokens: values.map((value, index) => ({
        tokenId: toHex(tokenIdOf(issuer.verifier, id, index)),
        value,
        vouched: order.vouched?.[index] ?? value,
      })),
    },
  };
}

/** The time stamped on an issuance for an SE: never earlier than the clock, always after the last one. */
export function nextIssuanceTime(nowSeconds: number, lastTime: number): number {
  return Math.max(nowSeconds, lastTime + 1);
}
