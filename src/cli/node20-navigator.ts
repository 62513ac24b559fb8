/**
 * pg decides whether it runs in a Cloudflare Worker by reading `navigator.userAgent`, and when `navigator` is
 * missing (Node < 21) it constructs a `Response` instead, which loads Node's whole fetch implementation (undici):
 * about 33 ms of every command's start-up here (pg/lib/stream.js, isCloudflareRuntime). Node 21+ defines
 * `navigator` itself; on Node 20 the CLI process, which owns its globals, defines the same shape. The library
 * entry never does this: it must not touch the app's globals.
 */
if (!('navigator' in globalThis)) {
  Object.defineProperty(globalThis, 'navigator', {
    value: { userAgent: `Node.js/${process.versions.node.split('.')[0]}` },
    configurable: true,
    writable: true,
  });
}
