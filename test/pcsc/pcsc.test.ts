// The virtual card in the real PC/SC stack (pcscd with vsmartcard-vpcd). First a standard tool,
// scriptor (Debian pcsc-tools), drives it: every answer is the status word ISO 7816-4 and
// docs/protocol.md give, and the bad commands change no byte of the card's memory. Then our own
// terminal, over the @pokusew/pcsclite binding, pays card→phone across two readers with a reader
// power-off in the middle. One file, so that the tests take turns on the two virtual readers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readU16be, toHex } from '../../src/core/bytes.ts';
import { coreErrors } from '../../src/core/errors.ts';
import { decodePaymentRequest } from '../../src/core/payment.ts';
import { answerToReset } from '../../src/pcsc/applet-identity.ts';
import { PcscTerminal, type CardSlot, type PcscReader } from '../../src/pcsc/pcsc-terminal.ts';
import { ReaderClient } from '../../src/pcsc/reader-client.ts';
import { ReaderPayment } from '../../src/pcsc/reader-payment.ts';
import { Device } from '../../src/device/device.ts';
import type { PublicData } from '../../src/device/se-client.ts';
import { nodePlatform } from '../../src/secure-element/node-platform.ts';
import { FileMedium } from '../../src/secure-element/store/medium.ts';
import { publicData } from '../../src/testing/devices.ts';
import { TestPki } from '../../src/testing/test-pki.ts';
import {
  CardProcess,
  directorySnapshot,
  pcscUnavailableReason,
  runScriptor,
  virtualReaders,
  writeChipMemory,
  type ScriptorAnswer,
} from '../../src/testing/pcsc.ts';

const unavailable = await pcscUnavailableReason();
if (unavailable !== undefined) console.log(`# skipping the PC/SC tests: ${unavailable}`);
const reader = virtualReaders[0];
const select = '00 A4 04 00 06 F0 43 42 44 43 01 00';

describe('scriptor on the virtual card', { skip: unavailable }, () => {
  let directory = '';
  let card: CardProcess | undefined;
  let seIdHex = '';
  let getDataAnswer: Uint8Array = new Uint8Array(0);

  before(async () => {
    if (unavailable !== undefined) return;
    directory = mkdtempSync(join(tmpdir(), 'cbdc-pcsc-'));
    const pki = new TestPki();
    const device = pki.newDevice('card', 'scripted');
    pki.load(device, 1_000n);
    seIdHex = toHex(device.client().getData().seId);
    getDataAnswer = device.client().call('getData');
    writeChipMemory(device, directory);
    card = await CardProcess.start('card', directory, reader.port);
  });

  after(async () => {
    await card?.stop();
    if (directory !== '') rmSync(directory, { recursive: true, force: true });
  });

  /** Data and status word of an answer, as `[hex data, hex SW]`; a reset as `['reset', ATR]`. */
  function split(answer: ScriptorAnswer): [string, string] {
    if ('reset' in answer) return ['reset', answer.reset.replaceAll(' ', '').toLowerCase()];
    const { response } = answer;
    return [toHex(response.subarray(0, -2)), toHex(response.subarray(-2))];
  }

  /** The refusal an applet sends for a catalogue code: its number as data, then its kind's SW. */
  function refusal(number: number, sw: string): [string, string] {
    return [toHex(Uint8Array.of(number >> 8, number & 0xff)), sw];
  }

  test(
    'scriptor: every bad APDU gets its status word and changes no byte of the card',
    { skip: unavailable },
    () => {
      const memoryBefore = directorySnapshot(directory);
      const script = [
        '80 CA 00 00 00', // GET DATA before SELECT: no applet is selected
        '00 A4 04 00 06 F0 43 42 44 43 02 00', // SELECT of another AID
        '00 A4 00 00 06 F0 43 42 44 43 01 00', // SELECT with P1 other than "by DF name"
        '00 A4 04 00 06 F0 43 42 44 43 01 04', // Le too short for the FCI: refused, nothing selected
        '80 CA 00 00 00', // still not selected
        select,
        '80 CA 00 00 10', // GET DATA, 16 bytes asked: the rest waits for GET RESPONSE
        '00 C0 00 00 00',
        '00 C0 00 00 00',
        '00 C0 00 00 00', // nothing pending any more
        '80 CA 00', // truncated header
        '80 CA 00 00 05 01 02', // Lc 5, 2 bytes follow
        '70 CA 00 00 00', // wrong CLA
        '80 EE 00 00 00', // wrong INS
        '80 CA 01 00 00', // wrong P1
        '90 40 00 00 01 81', // a chain opened...
        '80 CA 00 00 00', // ...and broken by another INS
        '90 40 00 00 01 81 00', // a non-final link asking for an answer
        '80 42 00 00 01 FF 00', // PAY with bytes that are not CBOR
        '90 40 00 00 01 81', // PAYMENT REQUEST of 0, chained
        '80 40 00 00 01 00 00',
        'reset',
        '80 CA 00 00 00', // a reset deselects
      ];
      const answers = runScriptor(reader.name, script).map(split);
      const data = toHex(getDataAnswer);
      // The GET DATA answer in chunks of 16, 256 and the rest, with 61xx naming what is left.
      assert.equal(getDataAnswer.length, 292);
      assert.deepEqual(answers, [
        ['', '6985'],
        ['', '6a82'],
        ['', '6b00'],
        ['', '6700'],
        ['', '6985'],
        ['6f0884' + '06f04342444301', '9000'],
        [data.slice(0, 32), '6100'],
        [data.slice(32, 32 + 512), '6114'],
        [data.slice(32 + 512), '9000'],
        ['', '6985'],
        ['', '6700'],
        ['', '6700'],
        ['', '6e00'],
        refusal(coreErrors.apduInstructionUnknown.number, '6d00'),
        refusal(coreErrors.apduParametersInvalid.number, '6b00'),
        ['', '9000'],
        ['', '6883'],
        ['', '6700'],
        refusal(coreErrors.cborUnsupported.number, '6a80'),
        ['', '9000'],
        refusal(coreErrors.amountMustBePositive.number, '6a80'),
        ['reset', toHex(answerToReset)],
        ['', '6985'],
      ]);
      assert.deepEqual(directorySnapshot(directory), memoryBefore);
    },
  );

  test(
    'scriptor: a chained PAYMENT REQUEST answers a request for the amount, signed by this card',
    { skip: unavailable },
    () => {
      const memoryBefore = directorySnapshot(directory);
      const answers = runScriptor(reader.name, [select, '90 40 00 00 01 81', '80 40 00 00 02 18 FA 00']);
      assert.deepEqual(answers.slice(0, 2).map(split), [
        ['6f0884' + '06f04342444301', '9000'],
        ['', '9000'],
      ]);
      const last = answers[2];
      assert.ok(last !== undefined && 'response' in last);
      const [requestData, sw] = split(last);
      assert.equal(sw, '9000');
      const request = decodePaymentRequest(last.response.subarray(0, -2));
      assert.equal(request.amount, 250n);
      assert.equal(toHex(request.payeeCertificate.body.subjectId), seIdHex);
      assert.equal(request.challenge.length, 16);
      assert.equal(requestData, toHex(last.response.subarray(0, -2)));
      assert.equal(readU16be(last.response, last.response.length - 2), 0x9000);
      // The outstanding request is stored: the card's memory changed.
      assert.notDeepEqual(directorySnapshot(directory), memoryBefore);
    },
  );
});

/** The payer's reader as the terminal sees it, powered off by the terminal once PAY's answer is half read. */
class PowerOffDuringPay implements CardSlot {
  readonly name: string;
  poweredOff = false;

  constructor(readonly reader: PcscReader) {
    this.name = reader.name;
  }

  get isPowered(): boolean {
    return this.reader.isPowered;
  }

  powerOn(): Promise<void> {
    return this.reader.powerOn();
  }

  readonly transmit = async (command: Uint8Array): Promise<Uint8Array> => {
    const response = await this.reader.transmit(command);
    // PAY (INS 42) answered its first chunk and 61xx: the bundle is signed and stored as pending,
    // the rest of it waits in the card's RAM for GET RESPONSE, and the power goes.
    if (!this.poweredOff && command[1] === 0x42 && response[response.length - 2] === 0x61) {
      this.poweredOff = true;
      await this.reader.powerOff();
    }
    return response;
  };
}

/** The merchant phone's reader, whose card process is killed after the first link of RECEIVE. */
class PulledOutDuringReceive implements CardSlot {
  readonly name: string;
  pulledOut = false;

  constructor(
    readonly reader: PcscReader,
    readonly pullOut: () => Promise<void>,
  ) {
    this.name = reader.name;
  }

  get isPowered(): boolean {
    return this.reader.isPowered;
  }

  powerOn(): Promise<void> {
    return this.reader.powerOn();
  }

  readonly transmit = async (command: Uint8Array): Promise<Uint8Array> => {
    const response = await this.reader.transmit(command);
    // The first link of a chained RECEIVE (CLA 90, INS 44) is in the card's RAM; the card goes.
    if (!this.pulledOut && command[0] === 0x90 && command[1] === 0x44) {
      this.pulledOut = true;
      await this.pullOut();
    }
    return response;
  };
}

interface Party {
  readonly balance: bigint;
  readonly counter: number;
  readonly pendingCount: number;
  readonly tokenCount: number;
}

function party({ balance, counter, pendingCount, tokenCount }: PublicData): Party {
  return { balance, counter, pendingCount, tokenCount };
}

async function readerParty(reader: PcscReader): Promise<Party> {
  await reader.powerOn();
  const client = new ReaderClient(reader.transmit);
  await client.select();
  return party(await client.getData());
}

/** The chip in `directory` powered up in this process, as after the test: what its memory holds. */
function storedParty(kind: 'card' | 'phone', directory: string): Party {
  return party(publicData(new Device(kind, kind, new FileMedium(directory), nodePlatform())));
}

describe('our terminal over PC/SC', { skip: unavailable }, () => {
  const [payerReader, payeeReader] = virtualReaders;
  const root = unavailable === undefined ? mkdtempSync(join(tmpdir(), 'cbdc-pcsc-pay-')) : '';
  const payerState = join(root, 'payer-card');
  const payeeState = join(root, 'merchant-phone');
  const processes: CardProcess[] = [];
  let terminal: PcscTerminal | undefined;

  before(async () => {
    const pki = new TestPki();
    const payer = pki.newDevice('card', 'payer');
    const payee = pki.newDevice('phone', 'merchant');
    pki.load(payer, 1_000n);
    pki.load(payee, 300n);
    writeChipMemory(payer, payerState);
    writeChipMemory(payee, payeeState);
    processes.push(await CardProcess.start('card', payerState, payerReader.port));
    processes.push(await CardProcess.start('phone', payeeState, payeeReader.port));
    terminal = await PcscTerminal.open();
  });

  after(async () => {
    terminal?.close();
    await Promise.all(processes.map((each) => each.stop()));
    rmSync(root, { recursive: true, force: true });
  });

  test('card→phone on two readers, payer reader powered off mid-PAY: resumed, exact, nothing doubled', async () => {
    assert.ok(terminal !== undefined);
    const [card, phone] = processes;
    assert.ok(card !== undefined && phone !== undefined);
    const payerSlot = new PowerOffDuringPay(await terminal.reader(payerReader.name));
    const payeeSlot = await terminal.reader(payeeReader.name);
    // Connected first (SCardConnect retried until the card is seen), so its status is reported.
    await payerSlot.reader.powerOn();
    await payerSlot.reader.waitForCard();
    assert.equal(toHex(payerSlot.reader.atr ?? new Uint8Array(0)), toHex(answerToReset));
    const payment = new ReaderPayment(payerSlot, payeeSlot, 250n, 1_767_225_700);

    const powerOffs = card.count('card power off');
    const first = await payment.tap();
    assert.equal(payerSlot.poweredOff, true);
    assert.deepEqual(
      { ...first, detail: '' },
      {
        outcome: 'interrupted',
        step: 'pay',
        code: 'readerFailed',
        detail: '',
      },
    );
    // The card saw the power go: its RAM, and the rest of PAY's answer with it, is gone.
    await card.waitFor('card power off', powerOffs + 1, 10_000);
    // Powered on again, the payer is debited once and the transfer is pending; the payee has nothing yet.
    assert.deepEqual(await readerParty(payerSlot.reader), {
      balance: 750n,
      counter: 1,
      pendingCount: 1,
      tokenCount: 1,
    });
    assert.deepEqual(await readerParty(payeeSlot), {
      balance: 300n,
      counter: 0,
      pendingCount: 0,
      tokenCount: 1,
    });

    assert.deepEqual(await payment.tap(), { outcome: 'completed' });
    assert.equal(payment.step, 'done');
    assert.ok(payment.bundleBytes > 256, 'the bundle took GET RESPONSE rounds');
    const payerAfter = { balance: 750n, counter: 1, pendingCount: 0, tokenCount: 1 };
    const payeeAfter = { balance: 550n, counter: 1, pendingCount: 0, tokenCount: 2 };
    assert.deepEqual(await readerParty(payerSlot.reader), payerAfter);
    assert.deepEqual(await readerParty(payeeSlot), payeeAfter);

    // What the chips' memories hold once the card processes are gone: the same, 1,300 in all.
    // Disconnected first: an exclusive handle left open would still hold a reader whose card pcscd
    // has not yet seen go (it polls vpcd), and the next test's SCardConnect would meet it.
    await payerSlot.reader.powerOff();
    await payeeSlot.powerOff();
    terminal.close();
    terminal = undefined;
    await Promise.all(processes.map((each) => each.stop()));
    assert.deepEqual(storedParty('card', payerState), payerAfter);
    assert.deepEqual(storedParty('phone', payeeState), payeeAfter);
  });

  test('the merchant phone pulled out mid-RECEIVE and plugged in again: the next tap completes, exact', async () => {
    // The first test stopped the card processes: these run on the same chip memories.
    processes.length = 0;
    processes.push(await CardProcess.start('card', payerState, payerReader.port));
    processes.push(await CardProcess.start('phone', payeeState, payeeReader.port));
    terminal = await PcscTerminal.open();
    const payerSlot = await terminal.reader(payerReader.name);
    const payeeSlot = new PulledOutDuringReceive(await terminal.reader(payeeReader.name), async () => {
      await processes[1]?.stop('SIGKILL');
    });
    const payment = new ReaderPayment(payerSlot, payeeSlot, 100n, 1_767_225_800);

    const first = await payment.tap();
    const expected = { outcome: 'interrupted', step: 'receive', code: 'readerFailed', detail: '' };
    assert.deepEqual({ ...first, detail: '' }, expected, JSON.stringify(first));
    assert.equal(payeeSlot.pulledOut, true);
    processes.push(await CardProcess.start('phone', payeeState, payeeReader.port));
    assert.deepEqual(await payment.tap(), { outcome: 'completed' });
    const payerAfter = { balance: 650n, counter: 2, pendingCount: 0, tokenCount: 1 };
    const payeeAfter = { balance: 650n, counter: 2, pendingCount: 0, tokenCount: 3 };
    assert.deepEqual(await readerParty(payerSlot), payerAfter);
    assert.deepEqual(await readerParty(payeeSlot.reader), payeeAfter);
    await payerSlot.powerOff();
    await payeeSlot.reader.powerOff();
    terminal.close();
    terminal = undefined;
    await Promise.all(processes.map((each) => each.stop()));
    assert.deepEqual(storedParty('card', payerState), payerAfter);
    assert.deepEqual(storedParty('phone', payeeState), payeeAfter);
  });
});
