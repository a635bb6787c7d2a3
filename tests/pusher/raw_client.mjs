// A bare pusher-js client (no Echo): prints every frame-level event it sees, then exits on stdin end.
// argv: host port key. Used for refusals (unknown key, origin, connection quota).
import Pusher from 'pusher-js';

const [host, port, key] = process.argv.slice(2);
const emit = (msg) => process.stdout.write(JSON.stringify(msg) + '\n');
const pusher = new Pusher(key, {
  cluster: '', wsHost: host, wsPort: Number(port), forceTLS: false, enabledTransports: ['ws'],
});
pusher.connection.bind('state_change', (s) => emit({ type: 'state', state: s.current }));
pusher.connection.bind('connected', () => emit({ type: 'connected', socket_id: pusher.connection.socket_id }));
pusher.connection.bind('error', (e) => emit({ type: 'connection_error', error: e?.data ?? e?.error?.data ?? null }));
process.stdin.on('data', () => {});
process.stdin.on('end', () => { pusher.disconnect(); process.exit(0); });
