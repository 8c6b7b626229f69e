import { useState } from 'react';
import type { RefInfo, SnapshotInfo, Wire } from '../../../../core/api';
import { formatTime } from '../../lib/format';
import { describeVersion, type Version } from '../../lib/url-state';

/** Choose the version everything on the page shows: a snapshot, a time (UTC) or a tag/branch. */
export function VersionPicker({
  version,
  snapshots,
  refs,
  onChange,
}: {
  version: Version;
  snapshots: Wire<SnapshotInfo>[];
  refs: Wire<RefInfo>[];
  onChange(v: Version): void;
}) {
  const [time, setTime] = useState('');
  const [timeError, setTimeError] = useState<string | null>(null);
  const applyTime = () => {
    const ms = Date.parse(time.includes('Z') || /[+-]\d\d:\d\d$/.test(time) ? time : `${time.replace(' ', 'T')}Z`);
    if (Number.isNaN(ms)) return setTimeError(`not a time: ${time}`);
    setTimeError(null);
    onChange({ asOfTimestampMs: ms });
  };
  return (
    <div className="version-picker" aria-label="Version">
      <span className="version-label" data-testid="version-label">
        {describeVersion(version)}
      </span>
      <select
        aria-label="Snapshot"
        value={version.snapshotId ?? ''}
        onChange={(e) => onChange(e.target.value ? { snapshotId: e.target.value } : {})}
      >
        <option value="">current</option>
        {snapshots.map((s, i) => (
          <option key={s.snapshotId} value={s.snapshotId}>
            #{i + 1} {s.operation} · {formatTime(s.timestampMs)}
          </option>
        ))}
      </select>
      <input
        aria-label="As of time (UTC)"
        placeholder="as of 2026-01-01 09:00:00"
        value={time}
        onChange={(e) => setTime(e.target.value)}
        onKeyDown={(e) => e.key === 'Enter' && applyTime()}
      />
      {refs.length > 0 && (
        <select aria-label="Ref" value={version.ref ?? ''} onChange={(e) => onChange(e.target.value ? { ref: e.target.value } : {})}>
          <option value="">ref…</option>
          {refs.map((r) => (
            <option key={r.name} value={r.name}>
              {r.type} {r.name}
            </option>
          ))}
        </select>
      )}
      {timeError && <span className="error">{timeError}</span>}
    </div>
  );
}
