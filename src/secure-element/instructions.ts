// The applet's instruction table (CLA 0x80, proprietary). docs/protocol.md documents each one.
export const appletClass = 0x80;

export const instructions = {
  initialise: 0x20,
  personalise: 0x22,
  getData: 0xca,
  load: 0x30,
  refuseLoad: 0x32,
  paymentRequest: 0x40,
  pay: 0x42,
  receive: 0x44,
  acknowledge: 0x46,
  beginSync: 0x50,
  completeSync: 0x52,
  updateLimits: 0x54,
  updateDenyList: 0x56,
  authenticate: 0x58,
} as const;

export type InstructionName = keyof typeof instructions;
