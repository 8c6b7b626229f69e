import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { tags } from '@lezer/highlight';
import { EditorView } from 'codemirror';

/**
 * The editors' look from the app's CSS variables, so CodeMirror follows the light/dark palette
 * (its built-in theme and highlight colours are made for a light background only).
 */
export const editorTheme = [
  EditorView.theme({
    '&': { backgroundColor: 'var(--panel)', color: 'var(--text)' },
    '.cm-content': { caretColor: 'var(--text)' },
    '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--text)' },
    '.cm-gutters': { backgroundColor: 'var(--bg)', color: 'var(--muted)', borderRight: '1px solid var(--border)' },
    '.cm-activeLine': { backgroundColor: 'color-mix(in srgb, var(--accent) 8%, transparent)' },
    '.cm-activeLineGutter': { backgroundColor: 'color-mix(in srgb, var(--accent) 16%, transparent)' },
    '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground': {
      backgroundColor: 'color-mix(in srgb, var(--accent) 28%, transparent)',
    },
    '.cm-tooltip': { backgroundColor: 'var(--panel)', color: 'var(--text)', border: '1px solid var(--border)' },
    '.cm-tooltip-autocomplete > ul > li[aria-selected]': { backgroundColor: 'var(--accent)', color: '#fff' },
  }),
  syntaxHighlighting(
    HighlightStyle.define([
      { tag: [tags.keyword, tags.operatorKeyword, tags.modifier], color: 'var(--syntax-keyword)' },
      { tag: [tags.string, tags.special(tags.string)], color: 'var(--syntax-string)' },
      { tag: [tags.number, tags.bool, tags.null], color: 'var(--syntax-number)' },
      { tag: [tags.comment, tags.lineComment, tags.blockComment], color: 'var(--muted)', fontStyle: 'italic' },
      { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: 'var(--syntax-property)' },
      { tag: [tags.function(tags.variableName), tags.typeName], color: 'var(--syntax-function)' },
      { tag: tags.invalid, color: 'var(--danger)' },
    ]),
  ),
];
