import { isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { TIDEMARK_PREFIX } from './keys';
import { loadPipelineConfig, parsePipelineDocument } from './validate';
import { hasEnvRef } from './values';

/** Export keeps `${env:NAME}` references unexpanded, so they need not resolve: any name counts as set. */
export const ANY_ENV: Record<string, string> = new Proxy({}, { get: () => 'set' });

/**
 * Turns a Tidemark pipeline file into one that Flink CDC 3.x accepts (`flink-cdc.sh file.yaml`):
 * - every `tidemark.*` key is removed and listed in a comment at the top, with its value;
 * - `pipeline.execution.checkpointing.interval` is removed: in Flink it is Flink's own option
 *   (config.yaml), not a pipeline option; the comment says what to set there;
 * - `source.type: mariadb` becomes `mysql` (Flink CDC reads MariaDB with its MySQL connector);
 * - an empty or missing `pipeline` block gets `parallelism: 1` (Flink CDC rejects an empty one).
 * Everything else — order, comments, quoting, `${env:…}` references — is kept as written, so
 * no secret is ever expanded into the output. The input is validated first; an invalid file throws
 * the same TidemarkError as loadPipelineConfig.
 */
export function exportFlinkYaml(text: string, fileName: string): string {
  const { config } = loadPipelineConfig(text, { fileName, env: ANY_ENV });
  const { doc } = parsePipelineDocument(text);
  const removed: string[] = [];
  const notes: string[] = [];
  const root = doc.contents as YAMLMap;

  const show = (node: unknown): string => {
    if (isScalar(node)) return String(node.value);
    if (isSeq(node)) return `[${node.items.map(show).join(', ')}]`;
    return String(node);
  };
  const strip = (map: unknown, path: string) => {
    if (!isMap(map)) return;
    const kept: Pair[] = [];
    for (const pair of (map as YAMLMap).items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (key.startsWith(TIDEMARK_PREFIX)) removed.push(`${path}.${key}: ${show(pair.value)}`);
      else kept.push(pair as Pair);
    }
    (map as YAMLMap).items = kept;
  };

  for (const block of ['source', 'sink', 'pipeline']) strip(root.get(block, true), block);
  for (const list of ['route', 'transform']) {
    const seq = root.get(list, true);
    if (isSeq(seq)) seq.items.forEach((item, i) => strip(item, `${list}[${i}]`));
  }

  const source = root.get('source', true) as unknown as YAMLMap;
  if (config.source.type === 'mariadb') {
    source.set('type', 'mysql');
    notes.push('source.type: mariadb is written as mysql: Flink CDC reads MariaDB with its MySQL connector.');
  }
  for (const pair of source.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (isScalar(pair.value) && typeof pair.value.value === 'string' && hasEnvRef(pair.value.value)) {
      notes.push(`source.${key} holds a \${env:NAME} reference, which Flink CDC does not expand: substitute it before submitting.`);
    }
  }

  let pipeline = root.get('pipeline', true) as Node | undefined;
  if (!isMap(pipeline)) {
    pipeline = doc.createNode({}) as YAMLMap;
    root.set('pipeline', pipeline);
  }
  const pipelineMap = pipeline as YAMLMap;
  if (pipelineMap.has('execution.checkpointing.interval')) {
    const value = show(pipelineMap.get('execution.checkpointing.interval', true));
    pipelineMap.delete('execution.checkpointing.interval');
    notes.push(`execution.checkpointing.interval: ${value} is Flink's own option, not a pipeline option: set it in Flink's configuration (config.yaml) instead.`);
  } else {
    notes.push('Tidemark commits every 30s by default; on Flink the commit interval is execution.checkpointing.interval in Flink\'s config.yaml.');
  }
  if (pipelineMap.items.length === 0) {
    pipelineMap.set('parallelism', 1);
    notes.push('pipeline.parallelism: 1 was added because Flink CDC rejects an empty pipeline block.');
  }

  const header = [
    ` Flink CDC 3.x pipeline exported by Tidemark from ${fileName}.`,
    removed.length === 0 ? ' No Tidemark-only options were set.' : ' Tidemark-only options removed (Flink CDC does not know them):',
    ...removed.map((r) => `   ${r}`),
    ...notes.map((n) => ` ${n}`),
  ];
  doc.commentBefore = doc.commentBefore ? `${header.join('\n')}\n\n${doc.commentBefore}` : header.join('\n');
  return doc.toString({ lineWidth: 0 });
}
