/** The dispatcher lives with the contract (core/api), so the renderer's query worker shares it. */
export { dispatchCall } from '../api';
