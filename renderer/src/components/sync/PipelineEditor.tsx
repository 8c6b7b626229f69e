import { yaml as yamlLanguage } from '@codemirror/lang-yaml';
import { linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { basicSetup, EditorView } from 'codemirror';
import { editorTheme } from '../../lib/editor-theme';
import { useEffect, useRef } from 'react';
import { useStore } from '../../store';

/**
 * The pipeline YAML with live validation: every edit is validated (debounced) by the engine and
 * errors are marked on their lines.
 */
export function PipelineEditor() {
  const name = useStore((s) => s.pipelineName);
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);

  useEffect(() => {
    if (!host.current) return;
    const lint = linter(
      async (v) => {
        await useStore.getState().validatePipeline();
        const result = useStore.getState().validation;
        if (!result) return [];
        const doc = v.state.doc;
        const toDiagnostic = (severity: 'error' | 'warning') => (i: { line: number; path: string; message: string }): Diagnostic => {
          const line = doc.line(Math.min(Math.max(1, i.line), doc.lines));
          return { from: line.from, to: line.to, severity, message: `${i.path}: ${i.message}` };
        };
        return [...result.errors.map(toDiagnostic('error')), ...result.warnings.map(toDiagnostic('warning'))];
      },
      { delay: 300 },
    );
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: useStore.getState().pipelineYaml,
        extensions: [
          editorTheme,
          basicSetup,
          yamlLanguage(),
          lint,
          lintGutter(),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) useStore.getState().setPipelineYaml(u.state.doc.toString());
          }),
          EditorView.contentAttributes.of({ 'aria-label': 'Pipeline YAML' }),
        ],
      }),
    });
    view.current = v;
    return () => v.destroy();
    // A new editor per pipeline; later text changes come from the editor itself.
  }, [name]);

  // Text replaced from outside (the saved file differs): put it into the editor.
  useEffect(
    () =>
      useStore.subscribe((s, prev) => {
        const v = view.current;
        if (!v || s.pipelineYaml === prev.pipelineYaml || s.pipelineYaml === v.state.doc.toString()) return;
        v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: s.pipelineYaml } });
      }),
    [],
  );

  return <div className="yaml-editor" ref={host} />;
}
