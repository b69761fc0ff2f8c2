// How the demonstrations print money: minor units of XTS (ISO 4217's code for testing), 2 decimals.
export function formatAmount(minorUnits: bigint): string {
  const sign = minorUnits < 0n ? '-' : '';
  const absolute = minorUnits < 0n ? -minorUnits : minorUnits;
  return `${sign}${absolute / 100n}.${(absolute % 100n).toString().padStart(2, '0')} XTS`;
}
