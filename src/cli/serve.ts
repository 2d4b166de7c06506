/**
 * `regcache serve`: load and validate the configuration once, start, and
 * stop gracefully on SIGTERM/SIGINT (a second signal exits at once). With
 * `server.workers` > 1 this process becomes the primary and forks the
 * workers, which run this same command (src/cluster).
 */
import cluster from 'node:cluster';
import type { App } from '../app.js';
import { loadConfigReport, type ConfigFlags } from '../config/load.js';
import type { Config } from '../config/schema.js';

/** Runs the server until a signal; resolves with the exit code. */
export async function runServe(configFile: string | undefined, env: NodeJS.ProcessEnv, flags: ConfigFlags): Promise<number> {
  const { config, ignored } = await loadConfigReport({ file: configFile, env, flags });
  if (config.server.workers > 1 && cluster.isPrimary) return (await import('../cluster/primary.js')).runPrimary(config);
  if (!cluster.isWorker) return serve(config, ignored);
  try {
    return await serve(config, ignored);
  } finally {
    // The IPC channel would keep a stopped (or failed) worker alive.
    if (process.connected) process.disconnect();
  }
}

async function serve(config: Config, ignored: readonly string[]): Promise<number> {
  // Loaded here: the primary of several workers never needs the server's modules.
  const { startApp } = await import('../app.js');
  let app: App;
  let stopRequested: (() => void) | undefined;
  let afterStop = (): Promise<void> => Promise.resolve();
  if (config.server.workers > 1) {
    const { connectWorker } = await import('../cluster/worker.js');
    const worker = await connectWorker();
    worker.onStop(() => stopRequested?.());
    app = await startApp(config, { worker, ignored });
    afterStop = () => worker.mayExit(config.server.shutdownTimeout + 10_000);
  } else app = await startApp(config, { ignored });
  return new Promise((resolve) => {
    let signalled = false;
    const stop = (): void => {
      if (signalled) return;
      signalled = true;
      app.stop().then(
        () => afterStop().then(() => resolve(0)),
        (err: unknown) => {
          app.log.error({ err }, 'error during shutdown');
          resolve(1);
        },
      );
    };
    stopRequested = stop;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (signalled) {
        // A worker also gets the terminal's Ctrl-C; its primary decides about exiting at once.
        if (!cluster.isWorker) {
          app.log.warn({ signal: sig }, 'second signal: exiting now');
          process.exit(1);
        }
        return;
      }
      app.log.info({ signal: sig }, 'shutting down');
      stop();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
