/** Installs a Debian package non-interactively (callers check first that they run as root). */
import { execFileSync } from 'node:child_process';

export function installDebianPackage(name: string): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  execFileSync('apt-get', ['install', '-y', '-qq', name], { stdio: 'ignore', env });
}
