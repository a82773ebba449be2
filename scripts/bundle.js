#!/usr/bin/env node
// Bundles each service (from tsc's output in dist/, which already carries Nest's decorator metadata)
// into one file: a service then loads one module instead of ~900, and starts in ~0.7 s instead of ~3 s.
// Then the dashboard's browser scripts, from their sources.
import { build } from 'esbuild';

const SERVICES = ['orchestrator', 'guest-viommu', 'vfio-type1', 'mdev-parent', 'host-vtd'];
// transports and integrations Nest loads only when asked for: not installed, not bundled
const OPTIONAL = [
  '@nestjs/websockets', '@nestjs/websockets/*', '@nestjs/platform-express', '@nestjs/microservices/microservices-module',
  'class-validator', 'class-transformer', '@grpc/grpc-js', '@grpc/proto-loader', 'kafkajs', 'mqtt', 'nats', '@nats-io/*',
  'amqplib', 'amqp-connection-manager', '@fastify/*', 'cache-manager',
];

await Promise.all(SERVICES.map((s) => build({
  entryPoints: [`dist/apps/${s}/src/main.js`],
  outfile: `dist/services/${s}.mjs`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: OPTIONAL,
  sourcemap: 'linked',
  logLevel: 'error',
  // CommonJS packages inside an ESM bundle still call require()
  banner: { js: "import { createRequire as __vsvaRequire } from 'node:module'; const require = __vsvaRequire(import.meta.url);" },
})));
// the dashboard's browser scripts (apps/ui/src/client, checked by tsconfig.client.json in build.js)
const CLIENT = ['run-page'];
await Promise.all(CLIENT.map((c) => build({
  entryPoints: [`apps/ui/src/client/${c}.ts`],
  outfile: `dist/ui/${c}.js`,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'chrome120',
  sourcemap: 'linked',
  logLevel: 'error',
})));
console.log(`bundled ${SERVICES.length} services into dist/services/ and ${CLIENT.length} dashboard script(s) into dist/ui/`);
