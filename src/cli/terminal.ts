// `cbdc terminal ...`: a payment terminal over PC/SC (pcscd), for cards in any reader — the virtual
// ones of `cbdc card` or real ones. `readers` lists them, `data` reads a card's public data, `pay`
// runs an offline payment between the devices in two readers, re-tapping after a reader failure.
import { InvalidArgumentError, type Command } from 'commander';
import { amountMax } from '../core/amount.ts';
import { toHex } from '../core/bytes.ts';
import { PcscTerminal, readerWaitMsDefault } from '../pcsc/pcsc-terminal.ts';
import { ReaderClient } from '../pcsc/reader-client.ts';
import { ReaderPayment } from '../pcsc/reader-payment.ts';

/** Taps `pay` tries before it gives up, each after the card is present again. */
export const payTapsDefault = 3;

function parseAmount(text: string): bigint {
  if (!/^[0-9]{1,16}$/.test(text) || BigInt(text) < 1n || BigInt(text) > amountMax)
    throw new InvalidArgumentError(`expected an amount in minor units, 1..${amountMax}`);
  return BigInt(text);
}

function parseCount(text: string): number {
  if (!/^[0-9]{1,9}$/.test(text) || Number(text) < 1)
    throw new InvalidArgumentError('expected a positive integer');
  return Number(text);
}

async function withTerminal(use: (terminal: PcscTerminal) => Promise<void>): Promise<void> {
  const terminal = await PcscTerminal.open();
  try {
    await use(terminal);
  } finally {
    terminal.close();
  }
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

interface PayOptions {
  readonly payerReader: string;
  readonly payeeReader: string;
  readonly amount: bigint;
  readonly time: number;
  readonly taps: number;
}

async function pay(terminal: PcscTerminal, options: PayOptions): Promise<void> {
  const payer = await terminal.reader(options.payerReader);
  const payee = await terminal.reader(options.payeeReader);
  const payment = new ReaderPayment(payer, payee, options.amount, options.time);
  for (let tap = 1; tap <= options.taps; tap++) {
    const outcome = await payment.tap();
    if (outcome.outcome === 'completed') {
      print(`paid ${options.amount} (bundle ${payment.bundleBytes} bytes, tap ${tap})`);
      return;
    }
    print(`tap ${tap} interrupted at ${outcome.step}: ${outcome.detail}`);
  }
  throw new Error(`the payment stopped at ${payment.step} after ${options.taps} taps; tap again to resume`);
}

export function registerTerminal(program: Command): void {
  const terminal = program.command('terminal').description('a payment terminal over PC/SC readers');
  terminal
    .command('readers')
    .description('list the PC/SC readers, with the ATR of the card in each')
    .action(() =>
      withTerminal(async (pcsc) => {
        for (const name of await pcsc.listReaders()) {
          const reader = await pcsc.reader(name);
          const atr = reader.atr;
          print(
            `${name}: ${reader.isCardPresent && atr !== undefined ? `card, ATR ${toHex(atr)}` : 'empty'}`,
          );
        }
      }),
    );
  terminal
    .command('data')
    .description("SELECT the applet in a reader's card and print its public data (GET DATA)")
    .requiredOption('--reader <name>', 'the PC/SC reader name')
    .action((options: { reader: string }) =>
      withTerminal(async (pcsc) => {
        const reader = await pcsc.reader(options.reader);
        await reader.powerOn();
        const client = new ReaderClient(reader.transmit);
        await client.select();
        const data = await client.getData();
        print(`se ${toHex(data.seId)} ${data.certificate?.body.role ?? 'not personalised'}`);
        print(
          `balance ${data.balance} counter ${data.counter} tokens ${data.tokenCount} pending ${data.pendingCount}`,
        );
      }),
    );
  terminal
    .command('pay')
    .description('an offline payment from the device in one reader to the device in another')
    .requiredOption('--payer-reader <name>', "the payer's reader (the card, for card→phone)")
    .requiredOption('--payee-reader <name>', "the payee's reader (the merchant phone's secure element)")
    .requiredOption('--amount <minor units>', 'the amount', parseAmount)
    .option(
      '--time <seconds>',
      "the payer's advisory time (Unix seconds)",
      parseCount,
      Math.floor(Date.now() / 1000),
    )
    .option(
      '--taps <count>',
      `taps before giving up (a card is awaited ${readerWaitMsDefault} ms)`,
      parseCount,
      payTapsDefault,
    )
    .action((options: PayOptions) => withTerminal((pcsc) => pay(pcsc, options)));
}
