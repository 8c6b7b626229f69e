import { describe, expect, it } from 'vitest';
import { formatCompact } from '../../renderer/src/lib/format';

describe('compact counts for chart axes', () => {
  it('keeps small numbers whole and shortens thousands, millions and billions', () => {
    expect([950, 9999, 20_000, 1_500_000, 2_000_000, 3_250_000_000, -1_200_000].map(formatCompact)).toEqual(['950', '9,999', '20k', '1.5M', '2M', '3.3B', '-1.2M']);
  });
});
