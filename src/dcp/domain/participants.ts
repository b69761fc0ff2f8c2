// The DCP's administrative operations: API participants (operator, agent) and wallets linked to
// core-ledger accounts. Each is idempotent by the caller's key, scoped by the participant.
import { assert } from '../../core/assert.ts';
import { toHex, utf8 } from '../../core/bytes.ts';
import type { DcpContext } from './context.ts';
import { ledgerCall } from './refusals.ts';
import type { ParticipantRole, ParticipantRow, WalletRow } from './ports.ts';
import { serviceError } from '../../service-kit/service-errors.ts';
import { dcpError } from '../api/errors.ts';

export async function createParticipant(
  context: DcpContext,
  caller: ParticipantRow,
  key: string,
  request: { readonly name: string; readonly role: ParticipantRole; readonly apiKeySha256: string },
): Promise<ParticipantRow> {
  requireRole(caller, ['operator']);
  const fingerprint = context.fingerprint('participant', [request.name, request.role, request.apiKeySha256]);
  const participant: ParticipantRow = { id: context.newId('prt'), name: request.name, role: request.role };
  const answer = await context.store.transaction((tx) =>
    context.idempotent(tx, { scope: caller.id, key, fingerprint, kind: 'participant' }, async () => {
      if (!(await tx.insertParticipant(participant, request.apiKeySha256, context.clock.nowMs())))
        throw serviceError('apiKeyAlreadyRegistered');
      return { kind: 'participant', id: participant.id };
    }),
  );
  return { ...participant, id: answer.value.id };
}

/** Registers the bootstrap operator key (idempotent). */
export async function bootstrapOperator(context: DcpContext, apiKeySha256: string): Promise<void> {
  if ((await context.store.reader.findParticipantByKeyDigest(apiKeySha256)) !== null) return;
  await context.store.transaction((tx) =>
    tx.insertParticipant(
      { id: context.newId('prt'), name: 'DCP operator', role: 'operator' },
      apiKeySha256,
      context.clock.nowMs(),
    ),
  );
}

/** A wallet linked to a ledger account: a given one, or a new wallet account owned by this DCP. */
export async function createWallet(
  context: DcpContext,
  caller: ParticipantRow,
  key: string,
  request: { readonly name: string; readonly accountId?: string },
): Promise<WalletRow> {
  requireRole(caller, ['operator', 'agent']);
  const fingerprint = context.fingerprint('wallet', [request.name, request.accountId ?? null]);
  const earlier = await context.earlier(caller.id, key, fingerprint);
  if (earlier !== null) return walletNamed(context, earlier.id);
  // The ledger account first, with a key derived from the client's: a retry after a crash gets the
  // same account back, and the wallet row below is written once.
  const accountKey = toHex(context.verifier.sha256(utf8(`${caller.id}/${key}`))).slice(0, 40);
  const accountId =
    request.accountId === undefined
      ? (
          await ledgerCall('other', () =>
            context.ledger.createAccount(`dcp-wallet-${accountKey}`, {
              kind: 'wallet',
              ownerId: context.ledgerParticipantId,
            }),
          )
        ).value.id
      : await checkedWalletAccount(context, request.accountId);
  const wallet: WalletRow = {
    id: context.newId('wal'),
    name: request.name,
    accountId,
    createdAtMs: context.clock.nowMs(),
  };
  const answer = await context.store.transaction((tx) =>
    context.idempotent(tx, { scope: caller.id, key, fingerprint, kind: 'wallet' }, async () => {
      await tx.insertWallet(wallet);
      return { kind: 'wallet', id: wallet.id };
    }),
  );
  return walletNamed(context, answer.value.id);
}

/**
 * A given account is checked before the wallet is kept: loads hold it and unloads pay into it, so
 * it must be a wallet account of the DCP's own ledger participant. The ledger shows an account only
 * to its owner (and the operator), so reading it tells both: another participant's account is
 * refused as `notAccountOwner`, a missing one as `accountNotFound`.
 */
export async function checkedWalletAccount(context: DcpContext, accountId: string): Promise<string> {
  const account = await ledgerCall('walletAccount', () => context.ledger.account(accountId));
  if (account.ownerId !== context.ledgerParticipantId)
    throw dcpError(
      'walletAccountNotOwned',
      `account ${accountId} is owned by ${account.ownerId ?? 'nobody'}`,
    );
  if (account.kind !== 'wallet')
    throw dcpError('walletAccountNotWallet', `account ${accountId} is ${account.kind}`);
  return account.id;
}

async function walletNamed(context: DcpContext, walletId: string): Promise<WalletRow> {
  const wallet = await context.store.reader.findWallet(walletId);
  assert(wallet !== null, 'an idempotency key names a committed wallet');
  return wallet;
}

export function requireRole(caller: ParticipantRow, roles: readonly ParticipantRole[]): void {
  if (!roles.includes(caller.role)) throw serviceError('roleNotAllowed', `${caller.role} may not do this`);
}
