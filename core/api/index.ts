export * from './contract';
export * from './wire';
export * from './client';
export { dispatchCall } from './dispatch';
