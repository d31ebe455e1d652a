// SPDX-License-Identifier: MIT
// tests/bench/tus_server.mjs: the upload server users would pick instead, for bench.py --
// @tus/server with @tus/file-store (npm, installed into build/tus by `make bench`),
// at http://127.0.0.1:$PORT/files/, storing in $TUS_DIR. Run from build/tus/.
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const server = new Server({
  path: '/files',
  datastore: new FileStore({ directory: process.env.TUS_DIR }),
});
server.listen({ host: '127.0.0.1', port: Number(process.env.PORT) }, () => {
  console.error('tus: listening on ' + process.env.PORT);
});
