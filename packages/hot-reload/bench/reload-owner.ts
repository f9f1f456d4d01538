/** The full-restart baseline's owner: started by `node --watch`, prints the first frame's colour. */
const [statePath, entry] = process.argv.slice(2) as [string, string];
const { State } = (await import(statePath)) as typeof import('../test/fixtures/state-shape.js');
const owner = await State.owner({ width: 300, height: 300 }, { hot: true, entry, log: false });
const poll = (): void => {
  const f = owner.framebuffer.acquireFront();
  const p = f?.pixels[0];
  owner.framebuffer.releaseFront();
  if (p === undefined) {
    setImmediate(poll);
    return;
  }
  console.log(`FRAME ${(p >>> 0).toString(16)}`);
};
poll();
const stop = (): void => {
  void owner.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
