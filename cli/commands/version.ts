import { TIDEMARK_VERSION } from '../../core/app/version';
import { parseCommandArgs, type CliCommand } from '../command';

export const versionCommand: CliCommand = {
  name: 'version',
  summary: 'Print Tidemark\'s version',
  usage: 'version',
  async run(argv, io) {
    parseCommandArgs('version', argv, {}, { min: 0, max: 0, names: [] });
    io.out(TIDEMARK_VERSION);
  },
};
