import type { Typed } from '../evaluator';
import type { FlinkType, V } from '../types';

/** NULL when any argument is NULL, else f of the values (unrolled for one to three arguments: a per-row hot path). */
export const strict = (ty: FlinkType, args: Typed[], f: (vs: V[]) => V): Typed => {
  const [a, b, c] = args;
  if (args.length === 1) return { t: ty, ev: (r, m) => { const x = a!.ev(r, m); return x === null ? null : f([x]); } };
  if (args.length === 2) return { t: ty, ev: (r, m) => { const x = a!.ev(r, m); if (x === null) return null; const y = b!.ev(r, m); return y === null ? null : f([x, y]); } };
  if (args.length === 3) {
    return { t: ty, ev: (r, m) => {
      const x = a!.ev(r, m);
      if (x === null) return null;
      const y = b!.ev(r, m);
      if (y === null) return null;
      const z = c!.ev(r, m);
      return z === null ? null : f([x, y, z]);
    } };
  }
  return { t: ty, ev: (r, m) => {
    const vs: V[] = [];
    for (const x of args) {
      const v = x.ev(r, m);
      if (v === null) return null;
      vs.push(v);
    }
    return f(vs);
  } };
};
