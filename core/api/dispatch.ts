import { callInputs, isCallName, type CallName, type HandlerContext, type HandlerTable } from './contract';
import { toWire, type Reply } from './wire';
import { TidemarkError, toTidemarkError } from '../errors';

/**
 * The single entry point of every transport (IPC, HTTP): checks the call name, validates the input
 * against the contract, runs the handler, and wraps the result or error as a plain-data reply.
 * A thrown Error does not survive IPC intact, so nothing leaves here but a Reply. Browser-safe: the
 * renderer's query worker dispatches through it too.
 */
export async function dispatchCall(
  table: Partial<HandlerTable>,
  name: unknown,
  rawInput: unknown,
  ctx: HandlerContext,
): Promise<Reply<unknown>> {
  try {
    if (!isCallName(name)) {
      throw new TidemarkError('InvalidInput', `unknown call ${JSON.stringify(name)}`, { call: String(name) });
    }
    const parsed = callInputs[name].safeParse(rawInput ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : '(input)';
      throw new TidemarkError('InvalidInput', `${name}: ${where}: ${issue?.message ?? 'invalid input'}`, { call: name, field: where });
    }
    const handler = table[name as CallName] as ((input: unknown, ctx: HandlerContext) => Promise<unknown>) | undefined;
    // A partial table (the renderer's query engine serves only query.*) names what it lacks.
    if (!handler) throw new TidemarkError('Unsupported', `call ${name} is not served here`, { call: name, feature: name });
    const value = await handler(parsed.data, ctx);
    return { ok: true, value: toWire(value) };
  } catch (e) {
    const err = toTidemarkError(e);
    return { ok: false, error: { code: err.code, message: err.message, context: err.context } };
  }
}
