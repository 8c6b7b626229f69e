import { TIDEMARK_VERSION } from '../../core/app/version';
import { parseCommandArgs, type CliRunner } from '../command';

export const versionCommand: CliRunner = {
  async run(argv, io) {
    parseCommandArgs('version', argv, {}, { min: 0, max: 0, names: [] });
    io.out(TIDEMARK_VERSION);
  },
};
