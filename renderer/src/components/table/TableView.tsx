import { useState } from 'react';
import { formatBytes, formatCount, formatTime } from '../../lib/format';
import { formatTraits } from './table-format';
import { TABS, type Tab } from '../../lib/url-state';
import { useStore } from '../../store';
import { SqlConsole } from '../SqlConsole';
import { ChangesTab } from './ChangesTab';
import { DataTab } from './DataTab';
import { FilesTab } from './FilesTab';
import { HistoryTab } from './HistoryTab';
import { SchemaTab } from './SchemaTab';
import { Timeline } from './Timeline';
import { VersionPicker } from './VersionPicker';

const TAB_LABELS: Record<Tab, string> = { data: 'Data', schema: 'Schema', changes: 'Changes', history: 'Key history', files: 'Files', sql: 'SQL' };

/** One table: header, timeline, version picker, and the tabs that all show the chosen version. */
export function TableView() {
  const path = useStore((s) => s.tablePath)!;
  const info = useStore((s) => s.tableInfo);
  const snapshots = useStore((s) => s.snapshots);
  const schema = useStore((s) => s.schema);
  const version = useStore((s) => s.version);
  const tab = useStore((s) => s.tab);
  const error = useStore((s) => s.tableError);
  const setVersion = useStore((s) => s.setVersion);
  const setTab = useStore((s) => s.setTab);
  const resolved = useStore((s) => s.resolvedSnapshotId());
  const [historyKey, setHistoryKey] = useState<Record<string, string> | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const refreshTable = useStore((s) => s.refreshTable);
  // A tag, branch, rollback or cherry-pick may change what "current" is: the tabs read again.
  const revision = useStore((s) => s.tableRevision);
  /** After a change committed from the timeline menu or the Files tab: read the table again, say what happened. */
  const changed = async (message: string) => {
    await refreshTable();
    setNotice(message);
  };

  const name = path.split('/').slice(-2).join('.');
  const pickKey = (row: Record<string, unknown>) => {
    const ids = schema?.identifierFields.length ? schema.identifierFields : Object.keys(row).slice(0, 1);
    setHistoryKey(Object.fromEntries(ids.map((k) => [k, String(row[k])])));
    setTab('history');
  };

  return (
    <div className="table-view">
      <div className="table-header">
        <h2 className="table-title">{name}</h2>
        {info && (
          <span className="muted">
            {formatTraits(info.format).label(info.formatVersion)} · {formatCount(info.totalRecords)} records · {formatBytes(info.totalSizeBytes)} · {info.snapshotCount} snapshots · last commit {formatTime(info.lastCommitMs)} UTC
            {formatTraits(info.format).headerNote && <span> · {info.health.notes[0]}</span>}
            {info.health.badge === 'warn' && <span className="health warn" title={info.health.notes.join('\n')}> ▲ {info.health.notes.at(-1)}</span>}
          </span>
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {info && (
        <>
          <Timeline
            snapshots={snapshots}
            selected={resolved}
            onSelect={(id) => void setVersion({ snapshotId: id })}
            refs={info.refs}
            path={path}
            format={info.format}
            onChanged={changed}
          />
          {notice && (
            <p className="notice" role="status">
              {notice}
            </p>
          )}
          <VersionPicker version={version} snapshots={snapshots} refs={info.refs} onChange={(v) => void setVersion(v)} />
          <div className="tabs" role="tablist">
            {TABS.map((t) => (
              <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? 'active' : ''} onClick={() => setTab(t)}>
                {TAB_LABELS[t]}
              </button>
            ))}
          </div>
          <div className="tab-body" role="tabpanel" key={revision}>
            {tab === 'data' && <DataTab path={path} version={version} onKey={pickKey} />}
            {tab === 'schema' && <SchemaTab path={path} schema={schema} snapshots={snapshots} current={resolved} />}
            {tab === 'changes' && <ChangesTab key={resolved ?? ''} path={path} snapshots={snapshots} current={resolved} />}
            {tab === 'history' && <HistoryTab path={path} identifierFields={schema?.identifierFields ?? []} initialKey={historyKey} />}
            {tab === 'files' && <FilesTab path={path} version={version} format={info.format} onChanged={changed} />}
            {tab === 'sql' && <SqlConsole />}
          </div>
        </>
      )}
    </div>
  );
}
