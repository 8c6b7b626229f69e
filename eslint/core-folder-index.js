// ESLint rule `tidemark/core-folder-index`: a file in one core/ folder imports another core/
// folder only through an index.ts (`../lake`, `../lake/write`, `../storage/node`), never a file
// inside it (`../lake/model`). Written here because no-restricted-imports matches specifier text,
// and a relative specifier's target depends on the importing file's folder.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const isDir = (p) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

export default {
  meta: {
    type: 'problem',
    docs: { description: 'Imports between core/ folders go through an index.ts' },
    schema: [],
    messages: {
      intoFile: "core/{{from}} imports '{{spec}}', a file inside core/{{to}}: import it through an index.ts of core/{{to}} (export it there if it is part of that folder's interface).",
    },
  },
  create(context) {
    const cwd = context.cwd ?? process.cwd();
    const file = context.filename ?? context.getFilename();
    const fromParts = relative(cwd, file).split(sep);
    if (fromParts[0] !== 'core' || fromParts.length < 3) return {};
    const check = (node) => {
      const spec = node?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = resolve(dirname(file), spec);
      const parts = relative(cwd, target).split(sep);
      if (parts[0] !== 'core' || parts.length < 2 || parts[1] === fromParts[1]) return;
      if (parts.length === 2) return;
      const last = parts[parts.length - 1];
      if (last === 'index' || last === 'index.ts' || (isDir(target) && existsSync(join(target, 'index.ts')))) return;
      context.report({ node, messageId: 'intoFile', data: { from: fromParts[1], to: parts[1], spec } });
    };
    return {
      ImportDeclaration: (n) => check(n.source),
      ExportNamedDeclaration: (n) => check(n.source),
      ExportAllDeclaration: (n) => check(n.source),
      ImportExpression: (n) => check(n.source),
      TSImportType: (n) => check(n.argument?.literal ?? n.argument),
    };
  },
};
