// The "try it" chat: gets a UserSig from the console (importing the user if
// needed), signs in with the JavaScript SDK and shows the conversation, the
// history included (the SDK syncs from the start on every load).
import { Client } from '/sdk/chatd.js';

const root = document.getElementById('try');
const state = document.getElementById('try-state');
const log = document.getElementById('try-log');
const form = document.getElementById('try-send');
const text = document.getElementById('try-text');
const { sdkappid, csrf, user, peer } = root.dataset;

function textOf(body) {
  return (body || []).map((e) => (e.MsgType === 'TIMTextElem' ? e.MsgContent.Text : '[' + e.MsgType + ']')).join(' ');
}

function show(entry) {
  if (entry.kind !== 'msg' || entry.peer !== peer) return;
  const li = document.createElement('li');
  li.className = 'msg';
  li.dataset.seq = entry.seq;
  const who = document.createElement('strong');
  who.textContent = entry.from + ': ';
  li.append(who, textOf(entry.body));
  log.append(li);
}

async function start() {
  const res = await fetch('/console/apps/' + sdkappid + '/try/session', {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, user }),
  });
  if (!res.ok) {
    let msg = res.status + ' ' + res.statusText;
    try { msg = (await res.json()).error; } catch (e) { /* an HTML error page */ }
    throw new Error(msg);
  }
  const s = await res.json();
  const url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/v1/ws';
  const c = new Client({ url, sdkAppID: s.sdkappid, user: s.user, userSig: s.usersig, after: 0 });
  c.on('entry', show);
  c.on('state', (st) => { state.textContent = st; });
  c.on('error', (e) => { state.textContent = 'error: ' + e.message; });
  await c.connect();
  state.textContent = c.state;
  const button = form.querySelector('button');
  button.disabled = false;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = text.value;
    if (!t) return;
    button.disabled = true;
    try {
      await c.sendText(peer, t); // the SDK delivers the sender's copy as an entry
      text.value = '';
    } catch (e) {
      state.textContent = 'send refused: ' + e.message;
    } finally {
      button.disabled = false;
    }
  });
}

start().catch((e) => { state.textContent = 'error: ' + e.message; });
