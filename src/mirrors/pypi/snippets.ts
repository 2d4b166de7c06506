/**
 * The `pypi` instance's section of the status page: the index URL and
 * copy-paste configuration for pip (pip.conf and the command line), uv
 * and Poetry.
 */
import type { StatusSection } from '../mode.js';

/** The status section for clients reaching regcache at `baseUrl`; `mount` is the instance's path. */
export function pypiStatus(baseUrl: string, mount: string, upstream: string): StatusSection {
  const index = `${baseUrl}${mount}/simple/`;
  const host = new URL(baseUrl).hostname;
  return {
    title: `PyPI (${new URL(upstream).host})`,
    url: index,
    upstreams: [upstream],
    snippets: [
      { id: 'pip-conf', label: 'pip.conf (~/.config/pip/pip.conf)', text: `[global]\nindex-url = ${index}\n` },
      { id: 'pip', label: 'pip', text: `pip install --index-url ${index} requests` },
      { id: 'uv', label: 'uv (uv.toml or [tool.uv] in pyproject.toml)', text: `[[index]]\nurl = "${index}"\ndefault = true\n` },
      { id: 'poetry', label: 'Poetry', text: `poetry source add --priority=primary regcache ${index}` },
      ...(baseUrl.startsWith('https:') ? [] : [{ id: 'pip-trusted', label: 'pip over plain http', note: 'pip warns about plain-http indexes unless the host is trusted', text: `pip install --trusted-host ${host} --index-url ${index} requests` }]),
    ],
  };
}
