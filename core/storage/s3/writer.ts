import { TidemarkError } from '../../errors';
import type { ObjectWriter } from '../index';
import { formatS3Url, parseS3Xml, readS3Error, type S3Client } from './client';

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.length === total) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A streaming writer of one object. Below the multipart threshold the bytes are buffered and sent
 * with one PUT at close; above it, a multipart upload (CreateMultipartUpload, UploadPart of
 * `partSizeBytes` each, CompleteMultipartUpload), so memory stays near one part. Any failure aborts
 * the upload (AbortMultipartUpload) so no parts are left billed and invisible in the bucket.
 */
export function createS3Writer(client: S3Client, bucket: string, key: string): ObjectWriter {
  const { partSizeBytes, multipartThresholdBytes } = client.config;
  const where = formatS3Url(bucket, key);
  let chunks: Uint8Array[] = [];
  let buffered = 0;
  let total = 0;
  let uploadId: string | null = null;
  const parts: { number: number; etag: string }[] = [];
  let state: 'open' | 'closed' | 'aborted' = 'open';

  /** Removes the first `n` buffered bytes and returns them as one array. */
  function take(n: number): Uint8Array {
    const all = concat(chunks, buffered);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    chunks = rest.length ? [rest.slice()] : [];
    buffered = rest.length;
    return head;
  }

  async function startUpload(): Promise<string> {
    const res = await client.send({ method: 'POST', bucket, key, query: { uploads: '' } });
    const id = (parseS3Xml(res.body, `CreateMultipartUpload ${where}`).InitiateMultipartUploadResult as { UploadId?: unknown } | undefined)?.UploadId;
    if (typeof id !== 'string' || !id) throw new TidemarkError('DataInvalid', `CreateMultipartUpload ${where}: the answer has no UploadId`, { bucket, key });
    return id;
  }

  async function uploadPart(bytes: Uint8Array): Promise<void> {
    uploadId ??= await startUpload();
    const number = parts.length + 1;
    const res = await client.send({ method: 'PUT', bucket, key, query: { partNumber: String(number), uploadId }, body: bytes });
    const etag = res.headers.get('etag');
    if (!etag) throw new TidemarkError('DataInvalid', `UploadPart ${number} of ${where}: the answer has no ETag`, { bucket, key });
    parts.push({ number, etag });
  }

  async function completeUpload(): Promise<void> {
    const body = `<CompleteMultipartUpload>${parts.map((p) => `<Part><PartNumber>${p.number}</PartNumber><ETag>${escapeXml(p.etag)}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const res = await client.send({ method: 'POST', bucket, key, query: { uploadId: uploadId! }, body: new TextEncoder().encode(body) });
    // S3 may answer 200 and still fail the completion, with an <Error> body (its documented quirk).
    const { code, message } = readS3Error(res.body);
    if (code) throw new TidemarkError('Io', `CompleteMultipartUpload ${where} failed: ${code}${message ? `: ${message}` : ''}`, { bucket, key, s3Code: code });
  }

  async function abortUpload(): Promise<void> {
    state = 'aborted';
    chunks = [];
    buffered = 0;
    if (uploadId === null) return;
    const id = uploadId;
    uploadId = null;
    try {
      await client.send({ method: 'DELETE', bucket, key, query: { uploadId: id }, accept: [404] });
    } catch (e) {
      const err = e instanceof TidemarkError ? e : new TidemarkError('Io', String(e));
      throw new TidemarkError(err.code, `AbortMultipartUpload of ${where} failed, its uploaded parts stay in the bucket until a lifecycle rule removes them: ${err.message}`, err.context, e);
    }
  }

  /** Runs a step; on failure aborts the upload (an abort failure is secondary) and rethrows the step's error. */
  async function guarded<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (e) {
      await abortUpload().catch(() => undefined);
      throw e;
    }
  }

  function requireOpen(op: string) {
    if (state !== 'open') throw new TidemarkError('InvalidInput', `${op} on the writer of ${where}, which is already ${state}`, { bucket, key });
  }

  return {
    async write(chunk) {
      requireOpen('write');
      if (chunk.length === 0) return;
      // Copy: the caller may reuse its buffer after the promise resolves.
      chunks.push(chunk.slice());
      buffered += chunk.length;
      total += chunk.length;
      if (total <= multipartThresholdBytes) return;
      await guarded(async () => {
        while (buffered >= partSizeBytes) await uploadPart(take(partSizeBytes));
      });
    },
    async close() {
      requireOpen('close');
      await guarded(async () => {
        if (uploadId === null && parts.length === 0 && total <= multipartThresholdBytes) {
          await client.send({ method: 'PUT', bucket, key, body: take(buffered) });
        } else {
          if (buffered > 0 || parts.length === 0) await uploadPart(take(buffered));
          await completeUpload();
        }
      });
      state = 'closed';
      return total;
    },
    async abort() {
      if (state !== 'open') return;
      await abortUpload();
    },
  };
}
