import { useRead } from '../../store/use-read';
import { formatBytes, formatCount, formatValue } from '../../lib/format';
import type { Version } from '../../lib/url-state';
import { MaintenancePanel } from './MaintenancePanel';
import type { TableFormat } from './table-format';

/** Data and delete files of the chosen snapshot; maintenance of the table below them. */
export function FilesTab({ path, version, format = 'iceberg', onChanged }: { path: string; version: Version; format?: TableFormat; onChanged?(message: string): Promise<void> }) {
  const { value: files, error } = useRead('lake.files', { path, version });
  if (error) return <p className="error">{error}</p>;
  if (!files) return <p className="muted">reading manifests…</p>;
  const data = files.filter((f) => f.content === 'data');
  const deletes = files.length - data.length;
  // Partition tuples as the compaction scope names them (JSON of the wire values).
  const partitions = [...new Set(data.filter((f) => f.partition.length > 0).map((f) => JSON.stringify(f.partition)))].sort();
  return (
    <div className="files-tab">
      <p>
        {data.length} data files ({formatCount(data.reduce((n, f) => n + f.recordCount, 0))} records, {formatBytes(data.reduce((n, f) => n + f.fileSizeInBytes, 0))}) · {deletes} delete files
      </p>
      <table className="compact" aria-label="Files">
        <thead>
          <tr>
            <th>content</th>
            <th className="num">records</th>
            <th className="num">size</th>
            <th className="num">seq</th>
            <th>spec</th>
            <th>partition</th>
            <th>deletes applied</th>
            <th>path</th>
          </tr>
        </thead>
        <tbody>
          {files.map((f) => (
            <tr key={f.path} className={f.content}>
              <td>{f.content}</td>
              <td className="num">{formatCount(f.recordCount)}</td>
              <td className="num">{formatBytes(f.fileSizeInBytes)}</td>
              <td className="num">{f.sequenceNumber}</td>
              <td>{f.specId}</td>
              <td className="mono small">{formatValue(f.partition)}</td>
              <td className="num">{f.content === 'data' ? f.deletes.length : ''}</td>
              <td className="mono small path" title={f.path}>
                {f.path.split('/').slice(-2).join('/')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {onChanged && <MaintenancePanel path={path} format={format} partitions={partitions} onChanged={onChanged} />}
    </div>
  );
}
