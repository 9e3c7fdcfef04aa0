import { readFileSync } from 'node:fs';

/** An operating-system user and group, by number, as a child process is started under them. */
export interface OsUser {
  uid: number;
  gid: number;
}

/**
 * Reads a `uid:gid` pair or a user name (looked up in /etc/passwd, which is
 * where container images keep their users; no NSS lookup). The superuser is
 * refused: running as another user is the point.
 */
export function parseOsUser(value: string, variable: string, passwd = readPasswd): OsUser {
  const numeric = /^(\d+):(\d+)$/.exec(value);
  const user = numeric ? { uid: Number(numeric[1]), gid: Number(numeric[2]) } : lookUp(value, variable, passwd());
  if (user.uid === 0 || user.gid === 0) throw new Error(`${variable} must name a user and group other than root`);
  if (user.uid > 0xfffffffe || user.gid > 0xfffffffe) throw new Error(`${variable} has a uid or gid out of range`);
  return user;
}

function lookUp(name: string, variable: string, passwd: string): OsUser {
  if (!/^[a-z_][a-z0-9_.-]*\$?$/i.test(name)) throw new Error(`${variable} must be uid:gid or a user name`);
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && /^\d+$/.test(uid ?? '') && /^\d+$/.test(gid ?? '')) return { uid: Number(uid), gid: Number(gid) };
  }
  throw new Error(`${variable}: no user '${name}' in /etc/passwd; give uid:gid instead`);
}

function readPasswd(): string {
  try {
    return readFileSync('/etc/passwd', 'utf8');
  } catch {
    return '';
  }
}
