// A real Laravel Echo (on pusher-js) client driven over stdin/stdout by tests/pusher.
// argv: host port key authEndpoint [userHeader]. Reads one JSON command per line on stdin,
// prints one JSON event per line on stdout.
import readline from 'node:readline';
import Echo from 'laravel-echo';
import Pusher from 'pusher-js';

const [host, port, key, authEndpoint, user] = process.argv.slice(2);
const emit = (msg) => process.stdout.write(JSON.stringify(msg) + '\n');

const echo = new Echo({
  broadcaster: 'reverb',
  key,
  Pusher,
  wsHost: host,
  wsPort: Number(port),
  forceTLS: false,
  enabledTransports: ['ws'],
  authEndpoint,
  auth: { headers: user ? { 'X-User': user } : {} },
});

const pusher = echo.connector.pusher;
pusher.connection.bind('connected', () => emit({ type: 'connected', socket_id: echo.socketId() }));
pusher.connection.bind('error', (e) => emit({ type: 'connection_error', error: e?.data ?? null }));
pusher.connection.bind('state_change', (s) => emit({ type: 'state', state: s.current }));

function channelFor(cmd) {
  if (cmd.kind === 'private') return echo.private(cmd.name);
  if (cmd.kind === 'encrypted') return echo.encryptedPrivate(cmd.name);
  if (cmd.kind === 'presence') return echo.join(cmd.name);
  return echo.channel(cmd.name);
}

const handlers = {
  subscribe(cmd) {
    const ch = channelFor(cmd);
    ch.subscribed(() => emit({ type: 'subscribed', channel: cmd.name }));
    ch.error((e) => emit({ type: 'subscription_error', channel: cmd.name, error: e }));
    for (const ev of cmd.listen ?? []) {
      ch.listen('.' + ev, (data) => emit({ type: 'event', channel: cmd.name, event: ev, data }));
    }
    for (const ev of cmd.whispers ?? []) {
      ch.listenForWhisper(ev, (data) => emit({ type: 'whisper', channel: cmd.name, event: ev, data }));
    }
    if (cmd.kind === 'presence') {
      ch.here((users) => emit({ type: 'here', channel: cmd.name, users }));
      ch.joining((u) => emit({ type: 'joining', channel: cmd.name, user: u }));
      ch.leaving((u) => emit({ type: 'leaving', channel: cmd.name, user: u }));
    }
  },
  whisper(cmd) {
    channelFor(cmd).whisper(cmd.event, cmd.data);
    emit({ type: 'whispered', event: cmd.event });
  },
  leave(cmd) {
    echo.leave(cmd.name);
    emit({ type: 'left', channel: cmd.name });
  },
  exit() {
    echo.disconnect();
    process.exit(0);
  },
};

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  const cmd = JSON.parse(line);
  handlers[cmd.op](cmd);
});
process.stdin.on('end', () => process.exit(0));
