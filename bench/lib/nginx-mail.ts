/**
 * The IMAP proxy people deploy today: nginx's mail module (Debian's `nginx` + `libnginx-mod-mail`), in
 * front of the bench Dovecot, as the peer column of bench/imap.ts. Its auth_http service is a tiny Node
 * process (its own, so it does not share the bench client's event loop) that accepts one user and
 * password and sends nginx to the store as that user through the master login, as Postern does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type RunningRelay, canConnect, freePort } from './pass-through.js';

const MAIL_MODULE = '/usr/lib/nginx/modules/ngx_mail_module.so';

export interface NginxMailOptions {
  storePort: number;
  dir: string;
  user: string;
  /** The password clients log in to nginx with (a bench secret, passed to the auth child by environment). */
  password: string;
  masterUser: string;
  masterPassword: string;
}

/** Answers nginx's auth_http requests; runs as its own process. */
const AUTH_SERVICE = `
const http = require('node:http');
const { AUTH_PORT, STORE_PORT, BENCH_USER, BENCH_PASS, MASTER_USER, MASTER_PASS } = process.env;
http.createServer((req, res) => {
  const ok = req.headers['auth-user'] === BENCH_USER && req.headers['auth-pass'] === BENCH_PASS;
  res.writeHead(200, ok
    ? { 'Auth-Status': 'OK', 'Auth-Server': '127.0.0.1', 'Auth-Port': STORE_PORT, 'Auth-User': BENCH_USER + '*' + MASTER_USER, 'Auth-Pass': MASTER_PASS }
    : { 'Auth-Status': 'Invalid login', 'Auth-Wait': '1' });
  res.end();
}).listen(Number(AUTH_PORT), '127.0.0.1');
`;

/** Starts nginx's mail proxy; null when nginx or its mail module is not installed. */
export async function startNginxMail(options: NginxMailOptions): Promise<RunningRelay | null> {
  if (!fs.existsSync('/usr/sbin/nginx') || !fs.existsSync(MAIL_MODULE)) return null;
  const [port, authPort] = [await freePort(), await freePort()];
  const auth: ChildProcess = spawn(process.execPath, ['-e', AUTH_SERVICE], {
    stdio: 'ignore',
    env: { AUTH_PORT: String(authPort), STORE_PORT: String(options.storePort), BENCH_USER: options.user,
      BENCH_PASS: options.password, MASTER_USER: options.masterUser, MASTER_PASS: options.masterPassword },
  });
  const dir = path.join(options.dir, 'nginx');
  fs.mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'nginx.conf');
  fs.writeFileSync(config, [
    `load_module ${MAIL_MODULE};`, 'worker_processes 1;', `pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log;`,
    'events { worker_connections 20000; }',
    'mail {', '  server_name localhost;', `  auth_http 127.0.0.1:${authPort}/auth;`, '  proxy_pass_error_message on;',
    `  server { listen 127.0.0.1:${port}; protocol imap; imap_auth plain login; }`, '}', '',
  ].join('\n'));
  // Its own process group, stopped by PID group: never by name.
  const nginx: ChildProcess = spawn('/usr/sbin/nginx', ['-c', config, '-p', dir, '-g', 'daemon off;'], { stdio: 'ignore', detached: true });
  const stop = () => {
    try {
      process.kill(-nginx.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    auth.kill();
  };
  for (let i = 0; i < 50; i++) {
    if ((await canConnect(port)) && (await canConnect(authPort))) return { name: 'nginx mail proxy', port, pid: nginx.pid!, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  stop();
  return null;
}
