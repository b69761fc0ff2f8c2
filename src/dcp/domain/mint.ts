// Minting: the DCP's issuer key signs issuances (DESIGN §4) with a request reference derived from the
// operation, so one operation can never mint the same reference twice (the store's unique key on
// request_reference is the last line of defence: invariant 3).
import { toHex, utf8, type Bytes } from '../../core/bytes.ts';
import { purposes, type Signer, type Verifier } from '../../core/crypto.ts';
import { requestReferenceBytes, tokenIdOf, type PrincipalId, type TokenId } from '../../core/ids.ts';
import { issuanceBodyToCbor, type Issuance, type IssuanceKind, type Output } from '../../core/issuance.ts';
import { encodeSigned, signBody } from '../../core/signed.ts';
import type { IssuanceRow } from '../store/sql-store.ts';

export interface Minted {
  readonly issuance: Issuance;
  readonly row: IssuanceRow;
}

export function requestReferenceOf(verifier: Verifier, operationId: string, part: string): Bytes {
  return verifier
    .sha256(utf8(`cbdc/dcp/reference/v1/${operationId}/${part}`))
    .subarray(0, requestReferenceBytes);
}

export function mint(
  signer: Signer,
  verifier: Verifier,
  dcpId: PrincipalId,
  operationId: string,
  part: string,
  kind: IssuanceKind,
  seId: PrincipalId,
  values: readonly bigint[],
  retiredTokenIds: readonly TokenId[],
  time: number,
): Minted {
  const outputs: Output[] = values.map((value) => ({ value, owner: seId }));
  const requestReference = requestReferenceOf(verifier, operationId, part);
  const issuance = signBody(
    signer,
    purposes.issuance,
    { dcpId, kind, requestReference, outputs, retiredTokenIds, time },
    issuanceBodyToCbor,
  );
  const id = verifier.sha256(issuance.bodyBytes);
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
      tokens: values.map((value, index) => ({ tokenId: toHex(tokenIdOf(verifier, id, index)), value })),
    },
  };
}

/** The time stamped on an issuance for an SE: never earlier than the clock, always after the last one. */
export function nextIssuanceTime(nowSeconds: number, lastTime: number): number {
  return Math.max(nowSeconds, lastTime + 1);
}
