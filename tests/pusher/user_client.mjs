// A bare pusher-js client for sign-in, send_to_user, subscription counts and cache channels.
// argv: host port key userAuthEndpoint channelAuthEndpoint [userHeader]. One JSON command per
// line on stdin (signin, subscribe), one JSON event per line on stdout.
import readline from 'node:readline';
import Pusher from 'pusher-js';

const [host, port, key, userAuth, channelAuth, user] = process.argv.slice(2);
const emit = (msg) => process.stdout.write(JSON.stringify(msg) + '\n');
const headers = user ? { 'X-User': user } : {};
const pusher = new Pusher(key, {
  cluster: '', wsHost: host, wsPort: Number(port), forceTLS: false, enabledTransports: ['ws'],
  userAuthentication: { endpoint: userAuth, transport: 'ajax', headers },
  channelAuthorization: { endpoint: channelAuth, transport: 'ajax', headers },
});
pusher.connection.bind('connected', () => emit({ type: 'connected', socket_id: pusher.connection.socket_id }));
pusher.connection.bind('error', (e) => emit({ type: 'connection_error', error: e?.data ?? null }));
pusher.connection.bind('state_change', (s) => emit({ type: 'state', state: s.current }));
pusher.user.bind('pusher:signin_error', (e) => emit({ type: 'signin_error', error: e }));
pusher.user.bind_global((event, data) => {
  if (!event.startsWith('pusher')) emit({ type: 'user_event', event, data });
});

const handlers = {
  signin() {
    pusher.signin();
    pusher.user.signinDonePromise.then(() => emit({ type: 'signed_in', user: pusher.user.user_data }));
  },
  subscribe(cmd) {
    const ch = pusher.subscribe(cmd.channel);
    ch.bind('pusher:subscription_succeeded', () => emit({ type: 'subscribed', channel: cmd.channel }));
    ch.bind('pusher:subscription_error', (e) => emit({ type: 'subscription_error', channel: cmd.channel, error: e }));
    ch.bind('pusher:subscription_count', (d) => emit({ type: 'count', channel: cmd.channel, count: d.subscription_count }));
    ch.bind('pusher:cache_miss', () => emit({ type: 'cache_miss', channel: cmd.channel }));
    ch.bind_global((event, data) => {
      if (!event.startsWith('pusher')) emit({ type: 'event', channel: cmd.channel, event, data });
    });
  },
};

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  const cmd = JSON.parse(line);
  handlers[cmd.op](cmd);
});
process.stdin.on('end', () => { pusher.disconnect(); process.exit(0); });
