import { describe, expect, it } from 'vitest';
import { mapColumnType } from '../../core/cdc';
import { paimonTypeOf } from '../../core/pipeline/sink/paimon';
import { icebergTypeName } from '../../core/pipeline/sink/schema';

/** core/pipeline/README.md "Paimon sink": MySQL column type → Paimon type, through the source's Iceberg type as the sink sees it. */
const TABLE: [string, string][] = [
  ['tinyint(1)', 'BOOLEAN'],
  ['bit(1)', 'BOOLEAN'],
  ['tinyint(4)', 'TINYINT'],
  ['tinyint(3) unsigned', 'SMALLINT'],
  ['smallint(6)', 'SMALLINT'],
  ['smallint(5) unsigned', 'INT'],
  ['mediumint(9)', 'INT'],
  ['int(11)', 'INT'],
  ['year(4)', 'INT'],
  ['int(10) unsigned', 'BIGINT'],
  ['bigint(20)', 'BIGINT'],
  ['bigint(20) unsigned', 'DECIMAL(20, 0)'],
  ['float', 'FLOAT'],
  ['double', 'DOUBLE'],
  ['decimal(12,2)', 'DECIMAL(12, 2)'],
  ['decimal(65,4)', 'STRING'],
  ['date', 'DATE'],
  ['time', 'TIME(0)'],
  ['time(3)', 'TIME(3)'],
  ['datetime', 'TIMESTAMP(0)'],
  ['datetime(6)', 'TIMESTAMP(6)'],
  ['timestamp(3)', 'TIMESTAMP(3) WITH LOCAL TIME ZONE'],
  ['char(8)', 'CHAR(8)'],
  ['varchar(255)', 'VARCHAR(255)'],
  ['text', 'STRING'],
  ['json', 'STRING'],
  ["enum('a','b')", 'STRING'],
  ["set('a','b')", 'STRING'],
  ['binary(16)', 'BINARY(16)'],
  ['varbinary(64)', 'VARBINARY(64)'],
  ['blob', 'BYTES'],
  ['bit(12)', 'BYTES'],
  ['geometry', 'BYTES'],
];

describe('Paimon sink type mapping (Flink CDC MySQL → Paimon)', () => {
  for (const [mysql, paimon] of TABLE) {
    it(`${mysql} → ${paimon}`, () => {
      const iceberg = icebergTypeName(mapColumnType(mysql));
      expect(paimonTypeOf({ name: 'c', type: iceberg, required: false, sourceType: mysql }, 't')).toBe(paimon);
    });
  }
  it('keys are NOT NULL; computed columns map from their Iceberg type', () => {
    expect(paimonTypeOf({ name: 'id', type: 'long', required: true, sourceType: 'bigint(20)' }, 't')).toBe('BIGINT NOT NULL');
    expect(paimonTypeOf({ name: 'x', type: 'timestamptz', required: false }, 't')).toBe('TIMESTAMP(6) WITH LOCAL TIME ZONE');
    expect(paimonTypeOf({ name: 'x', type: 'string', required: false }, 't')).toBe('STRING');
  });
});
