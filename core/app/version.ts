import pkg from '../../package.json' with { type: 'json' };

export const TIDEMARK_VERSION: string = pkg.version;
