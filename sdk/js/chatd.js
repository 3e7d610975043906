/**
 * chatd JavaScript client SDK: one device of one user over chatd's WebSocket
 * protocol (docs/protocol.md). A dependency-free ES module; chatd serves it at
 * GET /sdk/chatd.js.
 *
 * A Client logs in, keeps its user's log in order (each entry once, resynced
 * after every reconnect, gap and log_head push), sends one-to-one messages that
 * survive reconnects (an unacknowledged send is resent with the same
 * client_msg_id; the server answers a repeat with `duplicate`), reports reads,
 * recalls, and reconnects with backoff until it is closed or kicked.
 *
 * @example
 * import { Client } from 'https://chat.example.com/sdk/chatd.js';
 * const c = new Client({ url: 'wss://chat.example.com/v1/ws', sdkAppID: 1400000001,
 *   user: 'alice', userSig: sig, after: lastSeq });
 * c.addEventListener('entry', (ev) => { show(ev.detail); lastSeq = c.applied; });
 * await c.connect();
 * const ack = await c.sendText('bob', 'hi');
 *
 * @module chatd
 */

/** The login reply codes after which a reconnect logs in again later; any other refusal ends the client. */
const RETRY_LOGIN = new Set([60011, 60018, 70500]);

/**
 * An error answered by the server (`code` is the reference's error code), or a
 * local failure (`code` -1: not connected, connection lost, closed or kicked).
 */
export class ChatdError extends Error {
  /**
   * @param {number} code
   * @param {string} message
   */
  constructor(code, message) {
    super(`chatd: ${code}: ${message}`);
    this.name = 'ChatdError';
    /** @type {number} */
    this.code = code;
    /** @type {string} */
    this.reason = message;
  }
}

/**
 * @typedef {Object} Entry One item of the user's log (docs/protocol.md "The user's log").
 * @property {number} seq position in the user's log (0: an online-only message, not in the log)
 * @property {string} kind "msg", "recall" or "read"
 * @property {string} peer the other side of the conversation
 * @property {string} from
 * @property {string} to
 * @property {string} [msg_key]
 * @property {number} [msg_time] Unix seconds
 * @property {string} [client_msg_id]
 * @property {Array<Object>} [body] MsgBody elements
 * @property {string} [cloud_custom_data]
 * @property {boolean} [recalled] a recalled message returned by a sync (no body)
 * @property {number} [read_time] "read": read up to this time (Unix seconds)
 */

/**
 * @typedef {Object} Ack The server's acknowledgement of a durable send.
 * @property {string} msgKey
 * @property {number} msgTime Unix seconds
 * @property {number} seq the message's position in the sender's own log (0 for a duplicate)
 * @property {boolean} duplicate the clientMsgId was sent before; nothing new was stored
 * @property {string} clientMsgId
 */

/**
 * A device of one user. Events (each a CustomEvent; `on(type, fn)` passes its detail):
 * - `entry`: an {@link Entry}, in seq order, each seq once; online-only messages (seq 0) as they come.
 * - `state`: `{state}` — `connecting`, `online`, `reconnecting`, `kicked` or `closed`.
 * - `online`: `{connId, seq, edition, features, reconnect}` after each accepted login.
 * - `synced`: `{applied}` when a resync has caught up with the log.
 * - `disconnected`: `{code, reason, retryIn}` when the connection ended and a reconnect is planned in `retryIn` ms.
 * - `kicked`: `{reason, code}` — the server ended the session; the client does not reconnect.
 * - `error`: a {@link ChatdError} that ended the client (a login refused on reconnect, a refused sync).
 * - `push`: any other server push (profile, status, conv_changed, friend_*, group_*), the frame as received.
 */
export class Client extends EventTarget {
  /**
   * @param {Object} opts
   * @param {string} opts.url the WebSocket endpoint, ws(s)://HOST:PORT/v1/ws
   * @param {number} opts.sdkAppID
   * @param {string} opts.user the UserID
   * @param {string|function(): (string|Promise<string>)} opts.userSig the user's UserSig, or a function asked for one at each login
   * @param {string} [opts.platform="Web"]
   * @param {number} [opts.after=0] the last seq the caller already has; -1: only entries stored after the first login
   * @param {number} [opts.minDelay=500] first reconnect delay, ms (doubled per failed attempt, with jitter)
   * @param {number} [opts.maxDelay=30000] longest reconnect delay, ms
   * @param {number} [opts.pingInterval=30000] ms between pings (the server closes a connection silent for 120 s)
   * @param {number} [opts.pingTimeout=10000] ms without a pong after which the connection is taken as dead and reopened
   * @param {typeof WebSocket} [opts.WebSocket] the WebSocket constructor (default: the global one)
   */
  constructor(opts) {
    super();
    if (!opts || !opts.url || !opts.user || !opts.userSig || !opts.sdkAppID) {
      throw new TypeError('chatd: url, sdkAppID, user and userSig are required');
    }
    this._o = Object.assign({ platform: 'Web', after: 0, minDelay: 500, maxDelay: 30000,
      pingInterval: 30000, pingTimeout: 10000, WebSocket: globalThis.WebSocket }, opts);
    this._state = 'idle';
    this._ws = null;
    this._nextId = 0;
    this._pending = new Map(); // request id -> {resolve, reject, send}
    this._outbox = new Map(); // client_msg_id -> {frame, resolve, reject}: sends not yet acknowledged
    this._applied = this._o.after;
    this._syncing = false; // a resync runs: live entries are held in _held
    this._again = false; // a log_head beyond _applied came during a resync
    this._held = [];
    this._attempt = 0;
    this._logins = 0;
    this._timer = null;
    this._pinger = null;
    this._first = null; // connect()'s promise callbacks until the first login
    this._caps = { edition: '', features: [] };
  }

  /** @returns {number} the highest seq delivered on `entry` (the `after` to resume from). */
  get applied() { return this._applied; }

  /** @returns {string} `idle`, `connecting`, `online`, `reconnecting`, `kicked` or `closed`. */
  get state() { return this._state; }

  /** @returns {{edition: string, features: string[]}} the app's edition and features, from the last login. */
  get capabilities() { return this._caps; }

  /**
   * Adds a listener that receives the event's detail.
   * @param {string} type an event name (see the class)
   * @param {function(*): void} fn
   * @returns {function(): void} removes the listener
   */
  on(type, fn) {
    const h = (ev) => fn(ev.detail);
    this.addEventListener(type, h);
    return () => this.removeEventListener(type, h);
  }

  /**
   * Connects and logs in. Resolves with the first login's `{connId, seq, edition, features}`;
   * rejects with a {@link ChatdError} when the login is refused (the client is then closed).
   * A connection that cannot be opened is retried with backoff meanwhile.
   * @returns {Promise<{connId: string, seq: number, edition: string, features: string[]}>}
   */
  connect() {
    if (this._state !== 'idle') return Promise.reject(new ChatdError(-1, `connect: the client is ${this._state}`));
    return new Promise((resolve, reject) => {
      this._first = { resolve, reject };
      this._open();
    });
  }

  /**
   * Sends a one-to-one message; resolves once it is durable. While offline the send
   * waits and goes out after the next login; a send whose reply was lost is sent again
   * with the same clientMsgId, which the server answers with `duplicate: true` and the
   * original msgKey. The sender's copy is delivered on `entry` too, in seq order.
   * Rejects with the server's error, or code -1 when the client is closed or kicked first.
   * @param {string} to the receiver's UserID
   * @param {Array<Object>} body MsgBody elements, e.g. [{MsgType: 'TIMTextElem', MsgContent: {Text: 'hi'}}]
   * @param {{clientMsgId?: string, cloudCustomData?: string}} [opts] clientMsgId (at most 64 bytes) defaults to a random one
   * @returns {Promise<Ack>}
   */
  send(to, body, opts = {}) {
    if (this._state === 'kicked' || this._state === 'closed') {
      return Promise.reject(new ChatdError(-1, `client ${this._state}`));
    }
    const id = opts.clientMsgId || randomId();
    if (this._outbox.has(id)) return Promise.reject(new ChatdError(-1, `send ${id} is already waiting`));
    const frame = { op: 'send', to, client_msg_id: id, body };
    if (opts.cloudCustomData) frame.cloud_custom_data = opts.cloudCustomData;
    return new Promise((resolve, reject) => {
      const item = { frame, resolve, reject };
      this._outbox.set(id, item);
      if (this._state === 'online') this._write(item);
    });
  }

  /**
   * Sends a text message (see {@link Client#send}).
   * @param {string} to
   * @param {string} text
   * @param {{clientMsgId?: string, cloudCustomData?: string}} [opts]
   * @returns {Promise<Ack>}
   */
  sendText(to, text, opts) {
    return this.send(to, [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }], opts);
  }

  /**
   * Reports that the user read the conversation with peer (up to now, or `time`).
   * The peer's devices get a `read` entry. Rejects with code -1 when not online.
   * @param {string} peer
   * @param {number} [time] Unix seconds
   * @returns {Promise<void>}
   */
  async markRead(peer, time) {
    await this._call(time ? { op: 'read', peer, time } : { op: 'read', peer });
  }

  /**
   * Recalls a message the user sent to peer (within 2 minutes: 20016 afterwards).
   * Both sides' devices get a `recall` entry. Rejects with code -1 when not online.
   * @param {string} peer
   * @param {string} msgKey the message's msg_key
   * @returns {Promise<void>}
   */
  async recall(peer, msgKey) {
    await this._call({ op: 'recall', peer, msg_key: msgKey });
  }

  /**
   * Sends any request of docs/protocol.md (e.g. `{op: 'conv_list'}`) and resolves with the reply frame.
   * Rejects with the server's error, or code -1 when not online or the connection ends first.
   * @param {Object} frame the request without `id`
   * @returns {Promise<Object>}
   */
  request(frame) { return this._call(Object.assign({}, frame)); }

  /** Ends the client: no reconnect; waiting sends and requests reject with code -1. */
  close() { this._finish('closed', new ChatdError(-1, 'client closed')); }

  // ---- connection ----

  _setState(s) {
    if (this._state === s) return;
    this._state = s;
    this._emitEvent('state', { state: s });
  }

  _emitEvent(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  async _open() {
    this._setState('connecting');
    let sig = this._o.userSig;
    try {
      if (typeof sig === 'function') sig = await sig();
    } catch (err) {
      this._finish('closed', new ChatdError(-1, `userSig: ${err}`));
      return;
    }
    if (this._state !== 'connecting') return; // closed meanwhile
    let ws;
    try {
      ws = new this._o.WebSocket(this._o.url);
    } catch (err) {
      this._finish('closed', new ChatdError(-1, `WebSocket: ${err}`)); // a malformed url
      return;
    }
    this._ws = ws;
    this._syncing = true; // hold live entries until the login's resync has run
    this._held = [];
    ws.addEventListener('open', () => this._login(ws, sig));
    ws.addEventListener('message', (ev) => { if (ws === this._ws) this._frame(ev.data); });
    ws.addEventListener('close', (ev) => this._closed(ws, ev.code, ev.reason));
  }

  async _login(ws, sig) {
    let r;
    try {
      r = await this._call({ op: 'login', sdkappid: this._o.sdkAppID, user: this._o.user, usersig: sig,
        platform: this._o.platform }, true);
    } catch (err) {
      if (ws !== this._ws) return;
      if (err.code > 0 && (!RETRY_LOGIN.has(err.code) || this._first)) {
        this._finish('closed', err); // a refusal that another try would meet again
      } else {
        ws.close();
      }
      return;
    }
    if (ws !== this._ws) return;
    this._attempt = 0;
    this._caps = { edition: r.edition || '', features: r.features || [] };
    if (this._logins === 0 && this._applied < 0) this._applied = r.seq || 0;
    const info = { connId: r.conn_id, seq: r.seq || 0, edition: this._caps.edition,
      features: this._caps.features, reconnect: this._logins > 0 };
    this._logins++;
    this._setState('online');
    this._pinger = setInterval(() => this._ping(ws), this._o.pingInterval);
    for (const item of this._outbox.values()) this._write(item); // unacknowledged sends, same client_msg_id
    this._emitEvent('online', info);
    if (this._first) {
      this._first.resolve(info);
      this._first = null;
    }
    this._resync(ws);
  }

  _closed(ws, code, reason) {
    if (ws !== this._ws) return;
    this._ws = null;
    clearInterval(this._pinger);
    this._pinger = null;
    this._failPending(new ChatdError(-1, 'connection lost'));
    if (this._state === 'kicked' || this._state === 'closed') return;
    const delay = Math.min(this._o.maxDelay, this._o.minDelay * 2 ** Math.min(this._attempt, 20));
    const retryIn = Math.round(delay / 2 + Math.random() * delay / 2);
    this._attempt++;
    this._setState('reconnecting');
    this._emitEvent('disconnected', { code, reason, retryIn });
    this._timer = setTimeout(() => { this._timer = null; this._open(); }, retryIn);
  }

  _ping(ws) {
    const dead = setTimeout(() => ws.close(), this._o.pingTimeout);
    this._call({ op: 'ping' }).then(() => clearTimeout(dead), () => clearTimeout(dead));
  }

  /** Ends the client for good in state `kicked` or `closed`. */
  _finish(state, err) {
    if (this._state === 'kicked' || this._state === 'closed') return;
    this._setState(state);
    clearTimeout(this._timer);
    this._timer = null;
    clearInterval(this._pinger);
    const ws = this._ws;
    this._ws = null;
    if (ws) ws.close(1000, state);
    this._failPending(err);
    for (const item of this._outbox.values()) item.reject(err);
    this._outbox.clear();
    if (this._first) {
      this._first.reject(err);
      this._first = null;
    } else if (state === 'closed' && err.code !== -1) {
      this._emitEvent('error', err);
    }
  }

  _failPending(err) {
    const pending = [...this._pending.values()];
    this._pending.clear();
    for (const p of pending) if (!p.send) p.reject(err); // sends stay in the outbox
  }

  // ---- requests ----

  _call(frame, login = false) {
    if (!this._ws || (this._state !== 'online' && !login)) {
      return Promise.reject(new ChatdError(-1, 'not connected'));
    }
    frame.id = String(++this._nextId);
    return new Promise((resolve, reject) => {
      this._pending.set(frame.id, { resolve, reject });
      this._ws.send(JSON.stringify(frame));
    });
  }

  _write(item) {
    const id = String(++this._nextId);
    this._pending.set(id, { send: item });
    this._ws.send(JSON.stringify(Object.assign({ id }, item.frame)));
  }

  _frame(data) {
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      return;
    }
    switch (f.op) {
      case 'entry':
        if (f.entry) this._live(f.entry);
        return;
      case 'log_head':
        this._logHead(f.seq || 0);
        return;
      case 'kicked': {
        const err = new ChatdError(f.code || -1, `kicked: ${f.reason || ''}`);
        this._emitEvent('kicked', { reason: f.reason || '', code: f.code || 0 });
        this._finish('kicked', err);
        return;
      }
    }
    const p = f.id !== undefined ? this._pending.get(f.id) : undefined;
    if (!p) {
      if (f.id === undefined) this._emitEvent('push', f);
      return;
    }
    this._pending.delete(f.id);
    if (p.send) {
      this._sent(p.send, f);
    } else if (f.code) {
      p.reject(new ChatdError(f.code, f.message || ''));
    } else {
      p.resolve(f);
    }
  }

  _sent(item, f) {
    const id = item.frame.client_msg_id;
    if (this._outbox.get(id) !== item) return; // answered already
    this._outbox.delete(id);
    if (f.code) {
      item.reject(new ChatdError(f.code, f.message || ''));
      return;
    }
    if (f.entry) this._live(f.entry); // the sender's copy, at its place in the stream
    item.resolve({ msgKey: f.msg_key, msgTime: f.msg_time || 0, seq: f.seq || 0,
      duplicate: !!f.duplicate, clientMsgId: id });
  }

  // ---- the log ----

  _deliver(e) {
    if (this._state === 'kicked' || this._state === 'closed') return; // a listener ended the client
    if (e.seq > 0) this._applied = e.seq;
    this._emitEvent('entry', e);
  }

  /** A pushed entry: delivered in order; held during a resync; a gap starts one. */
  _live(e) {
    const seq = e.seq || 0;
    if (seq === 0) {
      this._deliver(e); // online-only: not in the log, moves no position
    } else if (seq <= this._applied) {
      // delivered already (by a sync)
    } else if (this._syncing) {
      this._held.push(e);
    } else if (seq === this._applied + 1) {
      this._deliver(e);
    } else {
      this._held.push(e);
      this._syncing = true;
      this._resync(this._ws);
    }
  }

  _logHead(seq) {
    if (seq <= this._applied) return;
    if (this._syncing) {
      this._again = true;
    } else {
      this._syncing = true;
      this._resync(this._ws);
    }
  }

  /** Syncs from the last delivered seq until complete, then releases the held entries. */
  async _resync(ws) {
    for (;;) {
      let r;
      try {
        r = await this._call({ op: 'sync', after: this._applied, limit: 500 });
      } catch (err) {
        if (ws === this._ws && err.code > 0) this._finish('closed', err);
        return; // a lost connection resyncs after the next login
      }
      if (ws !== this._ws) return;
      for (const e of r.entries || []) if (e.seq > this._applied) this._deliver(e);
      if (!r.complete) continue;
      const held = this._held.sort((a, b) => a.seq - b.seq);
      this._held = [];
      let gap = false;
      for (const e of held) {
        if (e.seq === this._applied + 1) this._deliver(e);
        else if (e.seq > this._applied + 1) gap = true;
      }
      if (gap || this._again) {
        this._again = false;
        continue;
      }
      this._syncing = false;
      this._emitEvent('synced', { applied: this._applied });
      return;
    }
  }
}

/** @returns {string} 32 random hex digits, for a client_msg_id. */
function randomId() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
