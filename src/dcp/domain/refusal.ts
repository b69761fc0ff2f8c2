// Loads an SE refused (issue 8, item 6): the value of a load issuance its SE will never install goes
// back to the wallet that paid for it, never stuck in the pool. The SE's proof is its load refusal
// (REFUSE LOAD, src/core/load-refusal.ts), signed with its certified key and recorded on the chip in
// the same commit, so the chip cannot install that issuance afterwards. Here the DCP checks the proof,
// then in one commit retires the load's token (its value leaves "issued − retired" with it) and
// records a refusal operation, which the outbox drives: pay pool → wallet, then done.
//
// Idempotent by issuance: the operation's id is derived from the load's, so a replayed refusal
// answers the first return and never pays twice; the retirement's unique key is the last line of
// defence. A load whose token a claim already retired was installed, so it is not returned.
import { assert } from '../../core/assert.ts';
import { toHex } from '../../core/bytes.ts';
import { purposes } from '../../core/crypto.ts';
import { tokenIdOf } from '../../core/ids.ts';
import { encodeSigned } from '../../core/signed.ts';
import { loadRefusalFromCbor, type LoadRefusal } from '../../core/load-refusal.ts';
import { serviceError } from '../../service-kit/service-errors.ts';
import { dcpError } from '../api/errors.ts';
import { decodeField, type DcpContext } from './context.ts';
import { drive } from './outbox.ts';
import {
  refusalOperationId,
  type DcpTransaction,
  type IssuanceFound,
  type Operation,
  type RefusalOperation,
  type RefusalResult,
} from './ports.ts';

/** `POST /v1/loads/refusals`: checks the SE's refusal and returns the load's value to the wallet. */
export async function returnRefusedLoad(context: DcpContext, refusalHex: string): Promise<RefusalResult> {
  const refusal = decodeField(refusalHex, 'refusal', loadRefusalFromCbor);
  const seId = toHex(refusal.body.seId);
  const device = await context.device(seId);
  if (!context.verifier.verify(device.publicKey, purposes.loadRefusal, refusal.bodyBytes, refusal.signature))
    throw dcpError('deviceSignatureInvalid', 'load refusal signature');
  const issuanceId = toHex(refusal.body.issuanceId);
  const issuance = await context.store.reader.findIssuance(issuanceId);
  if (issuance?.kind !== 'load' || issuance.seId !== seId)
    throw dcpError('refusedIssuanceUnknown', `issuance ${issuanceId}`);
  const id = refusalOperationId(issuance.operationId);
  const operation =
    (await context.store.reader.findOperation(id)) ??
    (await context.store.transaction((tx) => commitRefusal(context, tx, refusal, issuance)));
  return refusalResultOf(await drive(context, operation));
}

/** Under the device's lock: the refusal operation, or the one a concurrent copy committed first. */
async function commitRefusal(
  context: DcpContext,
  tx: DcpTransaction,
  refusal: LoadRefusal,
  issuance: IssuanceFound,
): Promise<Operation> {
  if ((await tx.findDevice(issuance.seId, true)) === null) throw dcpError('deviceNotFound');
  const id = refusalOperationId(issuance.operationId);
  const earlier = await tx.findOperation(id, true);
  if (earlier !== null) return earlier;
  const load = await tx.findOperation(issuance.operationId);
  assert(load?.kind === 'load' && load.state === 'done', 'a load issuance belongs to a done load');
  const nowMs = context.clock.nowMs();
  // A load issuance has one output (mint.ts `mintLoad`): token 0 of the issuance.
  const tokenId = toHex(tokenIdOf(context.verifier, refusal.body.issuanceId, 0));
  const retirement = {
    tokenId,
    seId: issuance.seId,
    value: issuance.value,
    operationId: id,
    // No upload retires it: the MDS's report names the SE's signed refusal instead.
    uploadDigest: toHex(context.verifier.sha256(encodeSigned(refusal))),
  };
  if (!(await tx.retireToken(retirement, nowMs)))
    throw dcpError('refusedIssuanceClaimed', `token ${tokenId} was retired by a claim`);
  const operation: RefusalOperation = {
    id,
    kind: 'refusal',
    seId: issuance.seId,
    amount: issuance.value,
    state: 'pending',
    accountId: load.accountId,
    answer: {
      operationId: id,
      loadOperationId: load.id,
      issuanceId: toHex(refusal.body.issuanceId),
      amount: issuance.value.toString(),
    },
  };
  await tx.insertOperation(operation, nowMs);
  return operation;
}

function refusalResultOf(operation: Operation): RefusalResult {
  if (operation.kind !== 'refusal')
    throw serviceError('internalError', `operation ${operation.id} is a ${operation.kind}`);
  return operation.answer;
}
