// The PC/SC client library: `@pokusew/pcsclite`, a native binding (node-gyp over Debian's
// libpcsclite) to the PC/SC API that every reader application uses (SCardConnect, SCardTransmit,
// SCardDisconnect...). It is an optional dependency, because it builds only where libpcsclite-dev is
// installed: it is loaded when first needed, and its absence is the typed `pcscUnavailable`.
//
// The interfaces below are the part of the binding this project uses, written out here so that the
// project type-checks on a machine where the optional dependency could not be installed.
import { pcscError } from './errors.ts';

export type Callback<T> = (error: unknown, value: T) => void;

export interface PcscReaderStatus {
  readonly state: number;
  readonly atr?: Buffer;
}

export interface PcscReaderBinding {
  readonly name: string;
  readonly connected: boolean;
  readonly SCARD_SHARE_EXCLUSIVE: number;
  readonly SCARD_PROTOCOL_T0: number;
  readonly SCARD_PROTOCOL_T1: number;
  readonly SCARD_STATE_PRESENT: number;
  readonly SCARD_LEAVE_CARD: number;
  readonly SCARD_UNPOWER_CARD: number;
  on(event: 'status', listener: (status: PcscReaderStatus) => void): this;
  on(event: 'error', listener: (error: unknown) => void): this;
  on(event: 'end', listener: () => void): this;
  connect(options: { share_mode: number; protocol: number }, callback: Callback<number>): void;
  disconnect(disposition: number, callback: (error: unknown) => void): void;
  transmit(data: Buffer, responseBytesMax: number, protocol: number, callback: Callback<Buffer>): void;
  close(): void;
}

export interface PcscContextBinding {
  on(event: 'reader', listener: (reader: PcscReaderBinding) => void): this;
  on(event: 'error', listener: (error: unknown) => void): this;
  close(): void;
}

export type PcscBinding = () => PcscContextBinding;

/** The package's name, held in a variable so that type-checking never needs it installed. */
const bindingPackage = '@pokusew/pcsclite';

/** Loads the binding, or throws `pcscUnavailable` naming why. */
export async function loadPcscBinding(): Promise<PcscBinding> {
  let loaded: unknown;
  try {
    loaded = await import(bindingPackage);
  } catch (error) {
    throw pcscError(
      'pcscUnavailable',
      `${bindingPackage} does not load (was libpcsclite-dev installed before npm ci?): ${String(error)}`,
    );
  }
  const factory = (loaded as { default?: unknown }).default;
  if (typeof factory !== 'function') throw pcscError('pcscUnavailable', `${bindingPackage} has no factory`);
  // The package's own typings describe this function; the interfaces above are their subset.
  return factory as PcscBinding;
}
