import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiJson } from '../openapi/openapi-document.js';

// `npm run openapi --workspace apps/ingest-api`: regenerates the committed docs/openapi.json (or the path given), which
// a test keeps equal to what GET /api/v1/openapi.json serves.
const target = process.argv[2]
  ? path.resolve(process.argv[2])
  : fileURLToPath(new URL('../../../../docs/openapi.json', import.meta.url));
await mkdir(path.dirname(target), { recursive: true });
await writeFile(target, openApiJson());
process.stdout.write(`wrote ${target}\n`);
