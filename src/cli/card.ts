// `cbdc card --kind card|phone --state DIR [--port N]`: one emulated secure element, its persistent
// memory in DIR, plugged into a PC/SC virtual reader (pcscd's vsmartcard-vpcd driver) until SIGTERM
// or SIGINT. It prints one line per event: `card connected to vpcd at HOST:PORT`, `card power on`,
// `card power off`, `card reset`, `card disconnected`, and refusals as `card refused CODE: detail`.
import { InvalidArgumentError, type Command } from 'commander';
import type { SecureElementKind } from '../core/certificate.ts';
import { VirtualCard } from '../pcsc/virtual-card.ts';
import { VpcdConnection, type VpcdEvent } from '../pcsc/vpcd-connection.ts';
import { vpcdPortDefault, type VpcdControl } from '../pcsc/vpcd-messages.ts';
import { nodePlatform } from '../secure-element/node-platform.ts';
import { FileMedium } from '../secure-element/store/medium.ts';
import { parsePort } from './options.ts';

interface CardOptions {
  readonly kind: SecureElementKind;
  readonly state: string;
  readonly port: number;
}

function parseKind(text: string): SecureElementKind {
  if (text !== 'card' && text !== 'phone') throw new InvalidArgumentError('expected card or phone');
  return text;
}

const controlWords: Record<VpcdControl, string> = {
  powerOn: 'power on',
  powerOff: 'power off',
  reset: 'reset',
  atrRequest: 'ATR request',
};

function describe(event: VpcdEvent, port: number): string {
  switch (event.event) {
    case 'connected':
      return `card connected to vpcd at 127.0.0.1:${port}`;
    case 'disconnected':
      return 'card disconnected';
    case 'control':
      return `card ${controlWords[event.control]}`;
    case 'refused':
      return `card refused ${event.code}: ${event.detail}`;
    default:
      return event satisfies never;
  }
}

export function registerCard(program: Command): void {
  program
    .command('card')
    .description('run an emulated secure element as a smart card in a PC/SC virtual reader (vpcd)')
    .requiredOption('--kind <kind>', 'card or phone (the store profile)', parseKind)
    .requiredOption('--state <directory>', "the chip's persistent memory: one file per block")
    .option(
      '--port <port>',
      `vpcd's port for the reader (first reader ${vpcdPortDefault})`,
      parsePort,
      vpcdPortDefault,
    )
    .action(async (options: CardOptions) => {
      // Durable: the directory is the chip's EEPROM, and a commit must survive the machine.
      const card = new VirtualCard(options.kind, new FileMedium(options.state), nodePlatform());
      const connection = new VpcdConnection(card, { port: options.port }, (event) => {
        process.stdout.write(`${describe(event, options.port)}\n`);
      });
      connection.start();
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await connection.stop();
    });
}
