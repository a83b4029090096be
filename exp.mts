import { startTestS3 } from './test/harness/s3.ts';
import { S3Client, PutObjectCommand, CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand, GetObjectCommand } from '@aws-sdk/client-s3';
const s3 = await startTestS3();
const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_SUPPORTED', responseChecksumValidation: 'WHEN_SUPPORTED' });
client.middlewareStack.add((next) => async (args: any) => { const h = args.request.headers; console.log(args.request.method, args.request.path, Object.keys(h).filter(k => /checksum|md5|content-encoding|trailer|sha256/i.test(k)).map(k => `${k}=${String(h[k]).slice(0,30)}`).join(' ')); return next(args); }, { step: 'finalizeRequest', name: 'log', priority: 'low' } as any);
try { await client.send(new PutObjectCommand({ Bucket: 'backups', Key: 'a', Body: Buffer.from('hello') })); console.log('put ok'); } catch (e) { console.log('put fail', (e as Error).message); }
const bad = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
try { await bad.send(new PutObjectCommand({ Bucket: 'backups', Key: 'b', Body: Buffer.from('hello'), ChecksumCRC32: 'AAAAAA==' })); console.log('bad checksum accepted'); } catch (e) { console.log('bad checksum refused', (e as Error).message); }
const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'backups', Key: 'm', ChecksumAlgorithm: 'CRC32' }));
const parts = [];
for (let n = 1; n <= 2; n++) { const r = await client.send(new UploadPartCommand({ Bucket: 'backups', Key: 'm', UploadId, PartNumber: n, Body: Buffer.alloc(n === 1 ? 5 * 1024 * 1024 : 10, n), ChecksumAlgorithm: 'CRC32' })); console.log('part', n, r.ETag, r.ChecksumCRC32); parts.push({ PartNumber: n, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 }); }
try { await client.send(new CompleteMultipartUploadCommand({ Bucket: 'backups', Key: 'm', UploadId, MultipartUpload: { Parts: parts } })); console.log('complete ok'); } catch (e) { console.log('complete fail', (e as Error).message); }
const g = await client.send(new GetObjectCommand({ Bucket: 'backups', Key: 'm' })); console.log('get', (await g.Body!.transformToByteArray()).length);
await s3.stop();
