/**
 * The baseline of the scrape benchmarks: a bare node:http server, in a process of its own like the exporter,
 * answering every request with the same bytes and headers (given by `startBareServer` in bench/lib.ts). It is
 * the floor any exporter serving that exposition pays. It exits when the benchmark disconnects.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const [bodyFile = '', headersJson = '{}'] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const headers = { ...(JSON.parse(headersJson) as Record<string, string>), 'content-length': body.length };
const server = createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => {
  server.close();
  server.closeAllConnections();
});
