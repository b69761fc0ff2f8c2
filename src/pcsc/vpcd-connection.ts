// The card side of vpcd: one virtual card plugged into one virtual reader over TCP. While connected,
// the card is in the reader; the reader powers it on and off and sends it APDUs. When the connection
// ends (pcscd stopped, the card process told to stop) the card leaves the reader: that is a power cut.
//
// Connecting is retried every `reconnectMs` while the card runs, as a card waits to be presented to a
// reader that is not there yet; each outcome is reported through `events` (the CLI prints them).
import { connect, type Socket } from 'node:net';
import { assert } from '../core/assert.ts';
import type { Bytes } from '../core/bytes.ts';
import { answerToReset } from './applet-identity.ts';
import { pcscError } from './errors.ts';
import type { VirtualCard } from './virtual-card.ts';
import {
  decodeVpcdMessage,
  encodeVpcdMessage,
  VpcdMessageReader,
  type VpcdControl,
} from './vpcd-messages.ts';

/** How long the card waits before trying vpcd again after a refused or lost connection. */
export const reconnectMsDefault = 1_000;

export interface VpcdConnectionOptions {
  /** vpcd listens on every address by default; the card only ever goes to loopback. */
  readonly host?: string;
  readonly port: number;
  readonly reconnectMs?: number;
}

export type VpcdEvent =
  | { readonly event: 'connected' | 'disconnected' }
  | { readonly event: 'control'; readonly control: VpcdControl }
  | { readonly event: 'refused'; readonly code: string; readonly detail: string };

export class VpcdConnection {
  readonly #card: VirtualCard;
  readonly #host: string;
  readonly #port: number;
  readonly #reconnectMs: number;
  readonly #events: (event: VpcdEvent) => void;
  #socket: Socket | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(card: VirtualCard, options: VpcdConnectionOptions, events: (event: VpcdEvent) => void) {
    assert(Number.isInteger(options.port) && options.port > 0 && options.port <= 0xffff, 'port 1..65535');
    this.#card = card;
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port;
    this.#reconnectMs = options.reconnectMs ?? reconnectMsDefault;
    this.#events = events;
  }

  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  /** Takes the card out of the reader: closes the connection, no reconnect; resolves once closed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => {
        resolve();
      });
      socket.end();
    });
  }

  #connect(): void {
    const socket = connect({ host: this.#host, port: this.#port });
    this.#socket = socket;
    const reader = new VpcdMessageReader();
    let connected = false;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      connected = true;
      this.#events({ event: 'connected' });
    });
    socket.on('data', (chunk: Buffer) => {
      for (const payload of reader.push(new Uint8Array(chunk))) this.#handle(socket, payload);
    });
    socket.on('error', (error) => {
      if (!socket.connecting) return; // a lost connection is reported by 'close'
      const detail = `${this.#host}:${this.#port}: ${error.message}`;
      this.#events({ event: 'refused', code: pcscError('vpcdUnreachable').code, detail });
    });
    socket.on('close', () => {
      // Out of the reader: nothing volatile survives, whatever the reader last asked.
      this.#card.powerOff();
      if (connected) this.#events({ event: 'disconnected' });
      if (!this.#stopped)
        this.#timer = setTimeout(() => {
          this.#connect();
        }, this.#reconnectMs);
    });
  }

  #handle(socket: Socket, payload: Bytes): void {
    const message = decodeVpcdMessage(payload);
    switch (message.kind) {
      case 'invalid':
        this.#events({
          event: 'refused',
          code: pcscError('vpcdMessageInvalid').code,
          detail: message.detail,
        });
        return;
      case 'control':
        this.#control(socket, message.control);
        return;
      case 'apdu': {
        const response = this.#card.transmit(message.apdu);
        if (response === undefined) {
          // A mute card: vpcd reads an empty answer and reports the transmission as failed.
          this.#events({ event: 'refused', code: pcscError('cardNotPowered').code, detail: 'APDU ignored' });
          socket.write(encodeVpcdMessage(new Uint8Array(0)));
          return;
        }
        socket.write(encodeVpcdMessage(response));
        return;
      }
      default:
        message satisfies never;
    }
  }

  #control(socket: Socket, control: VpcdControl): void {
    switch (control) {
      case 'atrRequest':
        // Asked on every presence poll, powered or not: answered, never reported.
        socket.write(encodeVpcdMessage(answerToReset));
        return;
      case 'powerOn':
        this.#card.powerOn();
        break;
      case 'powerOff':
        this.#card.powerOff();
        break;
      case 'reset':
        this.#card.reset();
        break;
      default:
        control satisfies never;
    }
    this.#events({ event: 'control', control });
  }
}
