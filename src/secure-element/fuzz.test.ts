// Fuzzing the secure element through its only door, APDU bytes: whatever arrives, the chip answers
// a well-formed response APDU (data, then a status word), never throws, never hits a bug (6F00), and
// changes its persistent memory only for a command it accepted (final status 9000) whose
// instruction mutates.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeCbor, type CborValue } from '../core/cbor.ts';
import { signedToCbor } from '../core/signed.ts';
import { bytesEqual, toHex } from '../core/bytes.ts';
import { Device } from '../device/device.ts';
import { TestPki } from '../testing/test-pki.ts';
import { decodeResponse, statusWords, sw1 } from './apdu/apdu.ts';
import { exchange } from './apdu/terminal.ts';
import { appletClass, instructions, type InstructionName } from './instructions.ts';
import { MemoryMedium, type Medium } from './store/medium.ts';

const chainingBit = 0x10;
const getResponse = Uint8Array.of(0x00, 0xc0, 0x00, 0x00, 0x00);
/** Instructions that never write: GET DATA reads, AUTHENTICATE only signs. The others may write. */
const readOnly: ReadonlySet<number> = new Set<number>([instructions.getData, instructions.authenticate]);
const instructionNames = new Map<number, InstructionName>(
  Object.entries(instructions).map(([name, ins]) => [ins, name as InstructionName]),
);

// --- the device under test --------------------------------------------------------------------

/** A logical command the fuzzed device would accept as it stands (before any mutation). */
interface RealCommand {
  readonly name: InstructionName;
  readonly data: Uint8Array;
}

/**
 * A personalised phone holding value, with an outstanding payment request of its own and a pending
 * outgoing payment, so that most instructions meet real state; and one valid command of each
 * mutating instruction it has not seen yet. Each fuzz run starts from a copy of its memory.
 */
function prepare(): { medium: Medium; pki: TestPki; commands: RealCommand[] } {
  const pki = new TestPki();
  const device = pki.newDevice('phone', 'fuzzed');
  const payee = pki.newDevice('phone', 'payee');
  const friend = pki.newDevice('phone', 'friend');
  pki.load(device, 100_000n);
  pki.load(device, 2_500n);
  pki.load(friend, 10_000n);
  const paid = device.client().pay(payee.client().paymentRequest(1_234n), 0);
  const incoming = friend.client().pay(device.client().paymentRequest(777n), 0);
  const seId = device.client().getData().seId;
  pki.time += 60;
  const commands: RealCommand[] = [
    { name: 'load', data: encodeCbor([signedToCbor(pki.dcp.issue('load', [{ value: 300n, owner: seId }]))]) },
    { name: 'pay', data: encodeCbor([payee.client().paymentRequest(50n), 0]) },
    { name: 'receive', data: incoming },
    { name: 'acknowledge', data: payee.client().receive(paid) },
    { name: 'paymentRequest', data: encodeCbor([10n]) },
    { name: 'beginSync', data: encodeCbor([new Uint8Array(16).fill(7)]) },
    { name: 'updateLimits', data: encodeCbor([signedToCbor(pki.dcp.limits('phone', 2))]) },
    {
      name: 'updateDenyList',
      data: encodeCbor([signedToCbor(pki.denyList([payee.client().getData().seId]))]),
    },
  ];
  return { medium: device.medium, pki, commands };
}

const base = prepare();

function copyMedium(source: Medium): MemoryMedium {
  const copy = new MemoryMedium();
  for (const name of source.list()) copy.write(name, source.read(name)!.slice());
  return copy;
}

function snapshot(medium: Medium): Map<string, string> {
  return new Map(medium.list().map((name) => [name, toHex(medium.read(name)!)]));
}

function sameSnapshot(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, bytes] of a) if (b.get(name) !== bytes) return false;
  return true;
}

// --- inputs -----------------------------------------------------------------------------------

const anyBytes = fc.uint8Array({ maxLength: 300 });

const cborLeaf: fc.Arbitrary<CborValue> = fc.oneof(
  fc.nat(),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.uint8Array({ maxLength: 70 }),
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc.string({ maxLength: 8 }),
);
const cborData: fc.Arbitrary<CborValue> = fc.oneof(
  cborLeaf,
  fc.array(cborLeaf, { maxLength: 8 }),
  fc.array(fc.oneof(cborLeaf, fc.array(cborLeaf, { maxLength: 4 })), { maxLength: 8 }),
);

/** Data the applet may accept: a payment request command, a BEGIN SYNC nonce, GET DATA's nothing. */
const plausibleData: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.bigInt({ min: 1n, max: 5_000n }).map((amount) => encodeCbor([amount])),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((nonce) => encodeCbor([nonce])),
  fc.constant(new Uint8Array(0)),
);

const commandData: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 255 }) },
  { weight: 3, arbitrary: cborData.map(encodeCbor).filter((bytes) => bytes.length <= 255) },
  { weight: 2, arbitrary: plausibleData },
);

/** A near-valid command APDU: CLA 80 (or chained 90, or 00), a known INS, parameters mostly 00. */
const nearValidApdu: fc.Arbitrary<Uint8Array> = fc
  .record({
    cla: fc.oneof(
      { weight: 6, arbitrary: fc.constant(appletClass) },
      { weight: 2, arbitrary: fc.constant(appletClass | chainingBit) },
      { weight: 1, arbitrary: fc.constantFrom(0x00, 0x10, 0x84, 0xa0) },
    ),
    ins: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...Object.values(instructions)) },
      { weight: 1, arbitrary: fc.constantFrom(0xc0, 0x00, 0xff) },
    ),
    p1: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat({ max: 255 }) }),
    p2: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat({ max: 255 }) }),
    data: commandData,
    lc: fc.oneof(
      { weight: 6, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.nat({ max: 255 }) },
    ),
    le: fc.oneof(fc.constant(undefined), fc.nat({ max: 255 })),
  })
  .map(({ cla, ins, p1, p2, data, lc, le }) => {
    const body = data.length === 0 && lc === undefined ? [] : [lc ?? data.length, ...data];
    return Uint8Array.of(cla, ins, p1, p2, ...body, ...(le === undefined ? [] : [le]));
  });

const apdu: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 1, arbitrary: anyBytes },
  { weight: 3, arbitrary: nearValidApdu },
);

// --- the property -----------------------------------------------------------------------------

interface Tally {
  inputs: number;
  accepted: number;
  mutations: number;
  statusWords: Map<number, number>;
}

/** Sends one input, follows 61xx with GET RESPONSE, and checks the answer and the memory. */
function sendAndCheck(device: Device, input: Uint8Array, tally: Tally): void {
  const before = snapshot(device.medium);
  let answer = device.transmit(input);
  const decoded = decodeResponse(answer);
  assert.ok(decoded.ok, `${toHex(input)} → ${toHex(answer)}: not a response APDU`);
  let sw = decoded.value.sw;
  // The final status of the command: the transport may hold the answer behind 61xx.
  for (let round = 0; sw1(sw) === 0x61; round++) {
    assert.ok(round < 300, 'GET RESPONSE never ends');
    answer = device.transmit(getResponse);
    const next = decodeResponse(answer);
    assert.ok(next.ok, `GET RESPONSE → ${toHex(answer)}`);
    sw = next.value.sw;
  }
  assert.notEqual(sw, statusWords.unknown, `${toHex(input)} → 6F00: the applet threw something untyped`);
  tally.inputs++;
  tally.statusWords.set(sw, (tally.statusWords.get(sw) ?? 0) + 1);
  if (sw === statusWords.success) tally.accepted++;
  const after = snapshot(device.medium);
  if (sameSnapshot(before, after)) return;
  tally.mutations++;
  const ins = input[1]!;
  assert.equal(sw, statusWords.success, `${toHex(input)} changed memory but answered ${sw.toString(16)}`);
  assert.equal(input[0], appletClass, `${toHex(input)} changed memory but is not a final CLA 80 command`);
  assert.ok(!readOnly.has(ins), `${instructionNames.get(ins) ?? ins} changed memory`);
  assert.ok(instructionNames.has(ins), `unknown INS ${ins} changed memory`);
}

void test('any APDU bytes: a status word, never a throw, and memory changes only on an accepted mutating command', () => {
  const started = Date.now();
  const tally: Tally = { inputs: 0, accepted: 0, mutations: 0, statusWords: new Map() };
  fc.assert(
    fc.property(fc.array(apdu, { minLength: 5, maxLength: 30 }), (inputs) => {
      const device = new Device('phone', 'fuzzed', copyMedium(base.medium), base.pki.platform);
      for (const input of inputs) sendAndCheck(device, input, tally);
    }),
    { numRuns: 400 },
  );
  // The fuzz reached the applet's handlers, not only the transport's refusals.
  assert.ok(tally.inputs >= 2000, `${tally.inputs} inputs`);
  assert.ok(tally.accepted > 0 && tally.mutations > 0, 'some inputs were valid, mutating commands');
  for (const sw of [
    statusWords.wrongData,
    statusWords.wrongLength,
    statusWords.wrongP1P2,
    statusWords.insNotSupported,
  ])
    assert.ok((tally.statusWords.get(sw) ?? 0) > 0, `no answer ${sw.toString(16)}`);
  assert.ok(Date.now() - started < 30_000, 'the fuzz must stay well under 30 s');
});

void test('the fuzzed chip still works afterwards: a random stream leaves it answering GET DATA', () => {
  const device = new Device('phone', 'fuzzed', copyMedium(base.medium), base.pki.platform);
  const tally: Tally = { inputs: 0, accepted: 0, mutations: 0, statusWords: new Map() };
  fc.assert(
    fc.property(apdu, (input) => {
      sendAndCheck(device, input, tally);
    }),
    { numRuns: 3000 },
  );
  device.endSession();
  const data = device.client().getData();
  assert.equal(data.lifeCycle, 2);
  assert.ok(data.balance > 0n);
});

// --- mutated real commands: deep into every handler -------------------------------------------

type Mutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'flip'; readonly index: number; readonly xor: number }
  | { readonly kind: 'cut'; readonly length: number }
  | { readonly kind: 'append'; readonly extra: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('flip' as const),
      index: fc.nat(),
      xor: fc.integer({ min: 1, max: 255 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cut' as const), length: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      extra: fc.uint8Array({ minLength: 1, maxLength: 3 }),
    }),
  },
);

function mutate(data: Uint8Array, change: Mutation): Uint8Array {
  switch (change.kind) {
    case 'none':
      return data;
    case 'flip': {
      if (data.length === 0) return data;
      const copy = data.slice();
      copy[change.index % data.length]! ^= change.xor;
      return copy;
    }
    case 'cut':
      return data.slice(0, change.length % (data.length + 1));
    case 'append':
      return Uint8Array.of(...data, ...change.extra);
    default:
      return change satisfies never;
  }
}

/**
 * Commands whose every byte is signed or strictly checked. (PAY's advisory time, PAYMENT REQUEST's
 * amount and BEGIN SYNC's nonce are free values; a RECEIVE replay is answered from the transfer id
 * alone, by design, before any signature is checked.)
 */
const fullySigned: ReadonlySet<InstructionName> = new Set([
  'load',
  'acknowledge',
  'updateLimits',
  'updateDenyList',
]);

void test('mutated real commands (chained, through GET RESPONSE) are refused cleanly or accepted whole', () => {
  const tally: Tally = { inputs: 0, accepted: 0, mutations: 0, statusWords: new Map() };
  const command = fc.record({ index: fc.nat({ max: base.commands.length - 1 }), change: mutation });
  fc.assert(
    fc.property(fc.array(command, { minLength: 1, maxLength: 8 }), (steps) => {
      const device = new Device('phone', 'fuzzed', copyMedium(base.medium), base.pki.platform);
      for (const { index, change } of steps) {
        const { name, data } = base.commands[index]!;
        const sent = mutate(data, change);
        const before = snapshot(device.medium);
        // The terminal's own chaining and GET RESPONSE; every APDU answer is checked on the way.
        const response = exchange(
          (bytes) => {
            const answer = device.transmit(bytes);
            assert.ok(decodeResponse(answer).ok, `${name}: ${toHex(answer)} is not a response APDU`);
            return answer;
          },
          { cla: appletClass, ins: instructions[name], p1: 0, p2: 0, data: sent },
        );
        assert.notEqual(response.sw, statusWords.unknown, `${name} with ${JSON.stringify(change)} → 6F00`);
        tally.inputs++;
        tally.statusWords.set(response.sw, (tally.statusWords.get(response.sw) ?? 0) + 1);
        // Every byte of these is under a signature or checked strictly: any change is refused.
        if (fullySigned.has(name) && !bytesEqual(sent, data))
          assert.notEqual(
            response.sw,
            statusWords.success,
            `${name} accepted with ${JSON.stringify(change)}`,
          );
        if (sameSnapshot(before, snapshot(device.medium))) continue;
        tally.mutations++;
        assert.equal(
          response.sw,
          statusWords.success,
          `${name} changed memory but answered ${response.sw.toString(16)}`,
        );
      }
    }),
    { numRuns: 400 },
  );
  assert.ok(tally.mutations > 0, 'unmutated commands were accepted');
  assert.ok((tally.statusWords.get(statusWords.securityNotSatisfied) ?? 0) > 0, 'signatures were checked');
});

void test('the real commands the mutations start from are each accepted as they stand', () => {
  for (const { name, data } of base.commands) {
    const device = new Device('phone', 'fuzzed', copyMedium(base.medium), base.pki.platform);
    const before = snapshot(device.medium);
    device.client().call(name, data);
    assert.ok(!sameSnapshot(before, snapshot(device.medium)), `${name} changed nothing`);
  }
});

void test('docs/protocol.md lists every instruction with its INS, and nothing else', () => {
  const text = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
  const documented = [...text.matchAll(/^\| `([0-9A-F]{2})` \| ([A-Z][A-Z ]*?) +\|/gm)].map(
    ([, ins, name]) => `${name!} ${ins!}`,
  );
  const spoken = (name: string): string => name.replace(/[A-Z]/g, (letter) => ` ${letter}`).toUpperCase();
  const expected = Object.entries(instructions).map(
    ([name, ins]) => `${spoken(name)} ${ins.toString(16).toUpperCase().padStart(2, '0')}`,
  );
  assert.deepEqual(documented.sort(), expected.sort());
});
