/**
 * `regcache serve`: load and validate the configuration once, start, and
 * stop gracefully on SIGTERM/SIGINT (a second signal exits at once).
 */
import { startApp } from '../app.js';
import { loadConfig, type ConfigFlags } from '../config/load.js';

/** Runs the server until a signal; resolves with the exit code. */
export async function runServe(configFile: string | undefined, env: NodeJS.ProcessEnv, flags: ConfigFlags): Promise<number> {
  const config = await loadConfig({ file: configFile, env, flags });
  const app = await startApp(config);
  return new Promise((resolve) => {
    let signalled = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (signalled) {
        app.log.warn({ signal: sig }, 'second signal: exiting now');
        process.exit(1);
      }
      signalled = true;
      app.log.info({ signal: sig }, 'shutting down');
      app.stop().then(
        () => resolve(0),
        (err: unknown) => {
          app.log.error({ err }, 'error during shutdown');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
