// What an attacker who opened a chip can do with its memory (DESIGN §3: whoever extracts a secure
// element's key "can sign anything with that key"): copy every block into a second chip (a clone),
// read its records, the key among them (what test support's forge signs with), put back an older
// copy (a rollback, with the payment counter moved on so the MDS cannot tell the two spends apart
// by a reused counter), or write records of its own (a token from an issuance nobody certified).
// The chip's own record codecs are used, so what the attacker writes is exactly what an honest chip
// would read; from then on every payment and every sync is the chip's own code over APDUs. Shared
// by the simulator's attackers (attacks.ts) and by tests.
import { assert } from '../core/assert.ts';
import { encodeEntry } from '../core/bundle.ts';
import { requestReferenceBytes } from '../core/ids.ts';
import { purposes } from '../core/crypto.ts';
import { issuanceBodyToCbor, type IssuanceBody } from '../core/issuance.ts';
import { signBody } from '../core/signed.ts';
import { identifyEntry } from '../core/validate-bundle.ts';
import { NodeSigner, secureRandomBytes } from '../crypto/node-crypto.ts';
import { Device } from '../device/device.ts';
import { encodeState, encodeToken, recordKeys } from '../secure-element/records.ts';
import { storeProfiles } from '../secure-element/secure-element.ts';
import { JournaledStore } from '../secure-element/store/journaled-store.ts';
import { MemoryMedium, type Medium } from '../secure-element/store/medium.ts';
import { Changes, SecureElementView } from '../secure-element/view.ts';

/** Every block of a chip's memory, copied. */
export function copyMemory(source: Medium): MemoryMedium {
  const copy = new MemoryMedium();
  for (const name of source.list()) {
    const block = source.read(name);
    if (block !== undefined) copy.write(name, Uint8Array.from(block));
  }
  return copy;
}

/** A second chip holding a copy of `device`'s memory: the same SE, key, tokens and counter. */
export function cloneDevice(device: Device, name = device.name): Device {
  return new Device(device.kind, name, copyMemory(device.medium), device.platform);
}

/** `medium` opened as `device`'s chip opens its own memory. */
function openView(device: Device, medium: Medium): SecureElementView {
  return new SecureElementView(JournaledStore.open(medium, storeProfiles[device.kind]), device.platform);
}

/**
 * What `read` finds in the chip's records (its key among them: no instruction reads it, an attacker
 * who opened the chip does). It reads a copy, so the chip is left exactly as it was.
 */
export function readChip<T>(device: Device, read: (view: SecureElementView) => T): T {
  return read(openView(device, copyMemory(device.medium)));
}

/** Opens the chip's memory as the chip would, lets `edit` add changes, commits them, powers up again. */
function rewrite(device: Device, edit: (view: SecureElementView, changes: Changes) => void): void {
  const view = openView(device, device.medium);
  const changes = new Changes();
  edit(view, changes);
  view.store.commit(changes.map);
  device.powerUp(device.medium);
}

/**
 * Puts `snapshot` (an earlier copy of the chip's memory) back into the chip, its payment counter
 * set to `counterAtLeast` when that is higher: the tokens spent since are spendable again.
 */
export function rollBack(device: Device, snapshot: Medium, counterAtLeast: number): void {
  device.powerUp(copyMemory(snapshot));
  rewrite(device, (view, changes) => {
    const state = view.state();
    if (state.counter < counterAtLeast)
      changes.put(recordKeys.state, encodeState({ ...state, counter: counterAtLeast }));
  });
}

/**
 * Writes into the chip a token of `value` from a load issuance the attacker signed with a key of
 * its own under the chip's DCP id (no DCP certified that key), and adds it to the balance. The chip
 * then pays with it and claims it at a sync like any token it holds.
 */
export function forgeToken(device: Device, value: bigint): void {
  rewrite(device, (view, changes) => {
    const context = view.personalised();
    const state = view.state();
    const body: IssuanceBody = {
      dcpId: context.config.certificate.body.issuerId,
      kind: 'load',
      requestReference: secureRandomBytes(requestReferenceBytes),
      outputs: [{ value, owner: context.identity.seId }],
      retiredTokenIds: [],
      time: state.trustedTime,
    };
    const fakeIssuer = NodeSigner.generate();
    const signed = signBody(fakeIssuer, purposes.issuance, body, issuanceBodyToCbor);
    const entry = identifyEntry(view.platform.verifier, { kind: 'issuance', signed });
    const tokenId = entry.outputIds[0];
    assert(tokenId !== undefined, 'an issuance with one output produces one token');
    changes
      .put(recordKeys.entry(entry.id), encodeEntry(entry))
      .put(
        recordKeys.token(tokenId),
        encodeToken({ id: tokenId, value, generation: 0, entryIds: [entry.id], locked: false }),
      )
      .put(recordKeys.state, encodeState({ ...state, balance: state.balance + value }));
  });
}
