/**
 * Thrown by the ORC decoders for malformed input. It carries no file name: decodeOrcRecords turns it
 * into DataInvalid naming the file, so the low-level decoders need not thread the path through.
 */
export class OrcFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrcFormatError';
  }
}
