#!/usr/bin/env node
/**
 * Telegram Bot API emulator for our end-to-end tests.
 *
 * It starts telegram-test-api (pinned in package.json) on an internal loopback port and puts a
 * small HTTP bridge in front of it, because python-telegram-bot 22 cannot talk to the emulator
 * as it is: getMe has no `is_bot`, messages carry dates in milliseconds and no `from`, callback
 * queries have no `chat_instance` nor a real message, several methods answer `null` or HTTP 500,
 * getUpdates ignores `offset` and `timeout`, and only JSON/urlencoded bodies are parsed.
 *
 * The emulator keeps what it is good at: the store of user updates and bot messages and its
 * client-side API (/sendMessage, /sendCallback, /getUpdatesHistory, ...), which the bridge
 * forwards untouched. The Bot API (/bot<token>/<method>) is answered here, on that same store,
 * the way Telegram answers it. Two bridge routes are added for the test client:
 *   POST /bridge/events {token, chatId, after}  every message the bot sent, edited or deleted
 *                                               in that chat, in order, as the user saw it then
 *   POST /bridge/calls  {token, method?}        every Bot API call the bot made (not getUpdates)
 *
 * Usage: node server.js [port]   (or TELEGRAM_EMULATOR_PORT; 0 picks a free port)
 * Prints "READY <port>" on stdout once it listens, logs to stderr, exits cleanly on SIGTERM.
 */
'use strict';

const http = require('http');
const net = require('net');
const TelegramServer = require('telegram-test-api'); // the package exports the class itself

const HOST = '127.0.0.1';
const PORT = Number(process.argv[2] ?? process.env.TELEGRAM_EMULATOR_PORT ?? 9000);
// The emulator forgets stored messages after storeTimeout: keep them for the whole test session.
const STORE_TIMEOUT_S = Number(process.env.TELEGRAM_EMULATOR_STORE_TIMEOUT ?? 3600);
// getUpdates long-polls at most this long, so that stopping a bot or this server is quick.
const MAX_POLL_S = 1;

const log = (...args) => console.error('[telegram-emulator]', ...args);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nowS = () => Math.floor(Date.now() / 1000);

let emulator; // the TelegramServer, once started
let stopping = false;

/* ---------------------------------------------------------------- per-bot state */

const bots = new Map(); // token -> {queue, calls, events, commands, webhook}
const chats = new Map(); // `${token}|${chatId}` -> the Chat object users sent their messages from
const files = new Map(); // file_id -> {data, file_path} for files the bots uploaded
let eventSeq = 0;
let fileSeq = 0;

function bot(token) {
  if (!bots.has(token)) {
    bots.set(token, { queue: [], calls: [], events: [], commands: new Map(), webhook: '' });
  }
  return bots.get(token);
}

class ApiError extends Error {
  constructor(code, description) {
    super(description);
    this.code = code;
  }
}

/** A User as getMe returns it; like Telegram, the bot's id is the number before ':' in its token. */
function botUser(token) {
  return {
    id: Number(String(token).split(':')[0]) || 666,
    is_bot: true,
    first_name: 'Test First name',
    username: 'TestNameBot',
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  };
}

function chatOf(token, chatId) {
  return chats.get(`${token}|${chatId}`) || { id: Number(chatId), type: 'private' };
}

const defined = (obj) => Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));

/* ---------------------------------------------------------------- bot messages */

// Fields of a stored bot message that are part of the Telegram Message.
const CONTENT = ['text', 'entities', 'caption', 'caption_entities', 'document', 'photo', 'audio',
  'video', 'voice', 'animation', 'location', 'venue', 'contact'];

function findBotMessage(token, chatId, messageId) {
  return emulator.storage.botMessages.find((item) => item.botToken === token
    && item.messageId === Number(messageId) && String(item.message.chat_id) === String(chatId));
}

/** The Message Telegram would return for a stored bot message: seconds, `from`, a real chat. */
function renderMessage(token, item) {
  const stored = item.message;
  const message = {
    message_id: item.messageId,
    from: botUser(token),
    chat: chatOf(token, stored.chat_id),
    date: Math.floor(item.time / 1000),
    edit_date: item.editDate,
  };
  for (const key of CONTENT) message[key] = stored[key];
  // A Message only ever carries an inline keyboard; reply keyboards live in the user's client.
  if (stored.reply_markup && stored.reply_markup.inline_keyboard) {
    message.reply_markup = stored.reply_markup;
  }
  return defined(message);
}

/** Remembers what the user saw, so that the test client never misses a short-lived state. */
function record(token, kind, item) {
  bot(token).events.push({
    seq: ++eventSeq,
    kind,
    chat_id: String(item.message.chat_id),
    message: defined({ ...renderMessage(token, item), reply_markup: item.message.reply_markup }),
  });
}

function send(token, params, content) {
  if (params.chat_id === undefined) throw new ApiError(400, 'Bad Request: chat_id is empty');
  const body = defined({ chat_id: String(params.chat_id), ...content, reply_markup: params.reply_markup });
  const { message_id: messageId } = emulator.addBotMessage(body, token);
  const item = findBotMessage(token, params.chat_id, messageId);
  record(token, 'sent', item);
  return renderMessage(token, item);
}

/** Telegram's edit semantics: content is replaced, and a keyboard not sent again is removed. */
function edit(token, params, content) {
  if (params.inline_message_id) return true;
  const item = findBotMessage(token, params.chat_id, params.message_id);
  if (!item) throw new ApiError(400, 'Bad Request: message to edit not found');
  const next = defined({ ...item.message, ...content, reply_markup: params.reply_markup });
  const visible = (m) => JSON.stringify([...CONTENT, 'reply_markup'].map((key) => m[key]));
  if (visible(next) === visible(item.message)) {
    throw new ApiError(400, 'Bad Request: message is not modified: specified new message content'
      + ' and reply markup are exactly the same as a current content and reply markup of the message');
  }
  item.message = next;
  item.editDate = nowS();
  record(token, 'edited', item);
  return renderMessage(token, item);
}

function deleteMessage(token, params) {
  const item = findBotMessage(token, params.chat_id, params.message_id);
  if (item) {
    emulator.removeBotMessage(item.updateId);
    record(token, 'deleted', item);
    return true;
  }
  // The emulator's own deleteMessage would match callback queries too: they share message ids.
  const incoming = emulator.storage.userMessages.find((update) => update.botToken === token
    && update.message && update.message.chat && String(update.message.chat.id) === String(params.chat_id)
    && update.messageId === Number(params.message_id));
  if (!incoming) throw new ApiError(400, 'Bad Request: message to delete not found');
  emulator.removeUserMessage(incoming.updateId);
  return true;
}

/** A file sent by the bot: an upload (kept, so that it can be downloaded) or a file_id/URL. */
function inputFile(params, value) {
  if (typeof value === 'string' && value.startsWith('attach://')) value = params[value.slice(9)];
  if (value && Buffer.isBuffer(value.data)) {
    const fileId = `file-${++fileSeq}`;
    const name = value.filename || fileId;
    files.set(fileId, { data: value.data, file_path: `${fileId}/${name}` });
    return defined({
      file_id: fileId, file_unique_id: `u${fileId}`, file_name: name,
      mime_type: value.contentType, file_size: value.data.length,
    });
  }
  if (value === undefined) throw new ApiError(400, 'Bad Request: there is no file in the request');
  return { file_id: String(value), file_unique_id: `u${value}` };
}

const withCaption = (params, content) => ({
  ...content, caption: params.caption, caption_entities: params.caption_entities,
});
const media = (kind, extra = {}) => (token, params) => send(token, params, withCaption(params, {
  [kind]: { ...inputFile(params, params[kind]), ...extra },
}));

/* ---------------------------------------------------------------- updates */

/** Completes the emulator's updates so that python-telegram-bot can parse them. */
function fixUpdate(token, update) {
  if (update.message) {
    const { botToken, ...message } = update.message; // the emulator leaks the token into it
    message.date = message.date > 1e11 ? Math.floor(message.date / 1000) : (message.date || nowS());
    message.from = { is_bot: false, first_name: 'User', ...message.from };
    message.chat = { id: message.from.id, type: 'private', ...message.chat };
    const { text } = message;
    if (typeof text === 'string' && text.startsWith('/') && !message.entities) {
      message.entities = [{ type: 'bot_command', offset: 0, length: text.split(/\s/)[0].length }];
    }
    chats.set(`${token}|${message.chat.id}`, message.chat);
    update.message = message;
  }
  const query = update.callback_query;
  if (query) {
    query.from = { is_bot: false, first_name: 'User', ...query.from };
    const chatId = (query.message && query.message.chat && query.message.chat.id) || query.from.id;
    const messageId = query.message && query.message.message_id;
    // The emulator passes on whatever the client sent: answer with the bot's real message.
    const item = findBotMessage(token, chatId, messageId);
    query.chat_instance = String(chatId);
    if (item) query.message = renderMessage(token, item);
    else delete query.message;
  }
  return update;
}

const formatUpdate = TelegramServer.formatUpdate;
TelegramServer.formatUpdate = (stored) => fixUpdate(stored.botToken, formatUpdate(stored));

/**
 * Telegram's getUpdates: updates stay queued until confirmed by a higher `offset` (so nothing is
 * lost nor handed twice), and an empty answer waits up to min(timeout, MAX_POLL_S) seconds.
 */
async function getUpdates(token, params) {
  const state = bot(token);
  if (state.webhook) {
    throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active;"
      + ' use deleteWebhook to delete the webhook first');
  }
  // As Telegram does: a new getUpdates ends one still waiting, which answers 409 (two bots polling one token).
  const poll = (state.polls = (state.polls || 0) + 1);
  const pull = () => state.queue.push(...emulator.getUpdates(token));
  pull();
  const offset = Number(params.offset || 0);
  if (offset > 0) state.queue = state.queue.filter((update) => update.update_id >= offset);
  if (offset < 0) state.queue = state.queue.slice(offset);
  const limit = Math.min(Math.max(Number(params.limit) || 100, 1), 100);
  const deadline = Date.now() + Math.min(Number(params.timeout) || 0, MAX_POLL_S) * 1000;
  while (!state.queue.length && Date.now() < deadline && !stopping) {
    await sleep(20);
    if (state.polls !== poll) {
      throw new ApiError(409, 'Conflict: terminated by other getUpdates request;'
        + ' make sure that only one bot instance is running');
    }
    pull();
  }
  return state.queue.slice(0, limit);
}

function dropPendingUpdates(token, params) {
  if (params.drop_pending_updates) {
    emulator.getUpdates(token);
    bot(token).queue = [];
  }
}

/* ---------------------------------------------------------------- the Bot API */

function commandsKey(params) {
  return JSON.stringify([params.scope || { type: 'default' }, params.language_code || '']);
}

const METHODS = {
  getMe: (token) => botUser(token),
  getUpdates,
  setWebhook: (token, params) => {
    if (!params.url) throw new ApiError(400, 'Bad Request: bad webhook: webhook URL is empty');
    emulator.setWebhook({ url: params.url }, token);
    bot(token).webhook = params.url;
    dropPendingUpdates(token, params);
    return true;
  },
  deleteWebhook: (token, params) => {
    emulator.deleteWebhook(token);
    bot(token).webhook = '';
    dropPendingUpdates(token, params);
    return true;
  },
  getWebhookInfo: (token) => ({
    url: bot(token).webhook, has_custom_certificate: false, pending_update_count: bot(token).queue.length,
  }),
  sendMessage: (token, params) => send(token, params, { text: params.text, entities: params.entities }),
  sendDocument: media('document'),
  sendPhoto: (token, params) => send(token, params, withCaption(params, {
    photo: [{ ...inputFile(params, params.photo), width: 1, height: 1 }],
  })),
  sendAudio: media('audio', { duration: 0 }),
  sendVoice: media('voice', { duration: 0 }),
  sendVideo: media('video', { width: 1, height: 1, duration: 0 }),
  sendAnimation: media('animation', { width: 1, height: 1, duration: 0 }),
  sendLocation: (token, params) => send(token, params, {
    location: { latitude: Number(params.latitude), longitude: Number(params.longitude) },
  }),
  sendVenue: (token, params) => send(token, params, {
    venue: {
      location: { latitude: Number(params.latitude), longitude: Number(params.longitude) },
      title: params.title,
      address: params.address,
    },
  }),
  sendContact: (token, params) => send(token, params, {
    contact: defined({
      phone_number: String(params.phone_number), first_name: params.first_name, last_name: params.last_name,
    }),
  }),
  editMessageText: (token, params) => edit(token, params, { text: params.text, entities: params.entities }),
  editMessageCaption: (token, params) => edit(token, params, {
    caption: params.caption, caption_entities: params.caption_entities,
  }),
  editMessageReplyMarkup: (token, params) => edit(token, params, {}),
  deleteMessage,
  deleteMessages: (token, params) => {
    for (const messageId of params.message_ids || []) {
      try {
        deleteMessage(token, { chat_id: params.chat_id, message_id: messageId });
      } catch (error) {
        // Telegram skips messages that cannot be deleted.
      }
    }
    return true;
  },
  setMyCommands: (token, params) => {
    bot(token).commands.set(commandsKey(params), params.commands || []);
    return true;
  },
  deleteMyCommands: (token, params) => bot(token).commands.delete(commandsKey(params)) || true,
  getMyCommands: (token, params) => bot(token).commands.get(commandsKey(params)) || [],
  getChatMenuButton: () => ({ type: 'default' }),
  getMyName: () => ({ name: botUser('').first_name }),
  getMyDescription: () => ({ description: '' }),
  getMyShortDescription: () => ({ short_description: '' }),
  getFile: (token, params) => {
    const file = files.get(String(params.file_id));
    if (!file) throw new ApiError(400, 'Bad Request: invalid file_id');
    return {
      file_id: String(params.file_id), file_unique_id: `u${params.file_id}`,
      file_size: file.data.length, file_path: file.file_path,
    };
  },
};
// Telegram matches method names case-insensitively.
const HANDLERS = new Map(Object.entries(METHODS).map(([name, fn]) => [name.toLowerCase(), fn]));
// Methods with no visible effect on the user's side: acknowledged with `true` and recorded.
const HARMLESS = new RegExp('^(set|delete|answer|pin|unpin|ban|unban|restrict|promote|approve|decline'
  + '|leave|close|logout|sendchataction)', 'i');

async function callBotApi(token, method, params) {
  if (method.toLowerCase() !== 'getupdates') {
    bot(token).calls.push({ method, params: describe(params), time: Date.now() });
  }
  const handler = HANDLERS.get(method.toLowerCase());
  if (handler) return handler(token, params);
  if (HARMLESS.test(method)) return true;
  throw new ApiError(400, `Bad Request: method ${method} is not emulated (see tests/emulator/server.js)`);
}

/** Recorded parameters: uploads are summarised rather than kept twice. */
function describe(params) {
  return Object.fromEntries(Object.entries(params).map(([key, value]) => [key,
    value && Buffer.isBuffer(value.data)
      ? { filename: value.filename, content_type: value.contentType, size: value.data.length }
      : value]));
}

/* ---------------------------------------------------------------- HTTP */

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseMultipart(body, boundary) {
  const fields = {};
  const delimiter = Buffer.from(`--${boundary}`);
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    start += delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const end = body.indexOf(delimiter, start);
    if (end === -1) break;
    const part = body.subarray(start + 2, end - 2); // between the CRLFs around the part
    const split = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, split).toString();
    const data = part.subarray(split + 4);
    const name = /[;\s]name="([^"]*)"/i.exec(head);
    const filename = /filename="([^"]*)"/i.exec(head);
    const type = /content-type:\s*([^\r\n]+)/i.exec(head);
    if (name) {
      fields[name[1]] = filename
        ? { filename: filename[1], contentType: type ? type[1].trim() : undefined, data }
        : data.toString('utf8');
    }
    start = end;
  }
  return fields;
}

// Form values are strings, JSON-encoded except for plain-text fields (python-telegram-bot's
// RequestParameter.json_value); clients sending JSON may still encode nested objects as strings.
const TEXT_FIELDS = new Set(['text', 'caption', 'data', 'url', 'callback_query_id', 'inline_message_id',
  'file_id', 'title', 'address', 'phone_number', 'first_name', 'last_name', 'description',
  'short_description', 'name', 'action', 'parse_mode', 'language_code', 'secret_token']);

function decodeJsonValues(fields) {
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value !== 'string' || TEXT_FIELDS.has(key)) continue;
    try {
      fields[key] = JSON.parse(value);
    } catch (error) {
      // a plain string after all (e.g. a file_id or "@channel")
    }
  }
  return fields;
}

/** Bot API parameters from the query string and a JSON, urlencoded or multipart body. */
function parseParams(req, url, body) {
  const type = String(req.headers['content-type'] || '');
  const text = body.toString('utf8');
  let fields = {};
  if (type.includes('multipart/form-data')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(type);
    fields = parseMultipart(body, boundary ? boundary[1] : '');
  } else if (type.includes('application/json') && text.trim()) {
    fields = JSON.parse(text);
  } else if (text) {
    fields = Object.fromEntries(new URLSearchParams(text));
  }
  return decodeJsonValues({ ...Object.fromEntries(url.searchParams), ...fields });
}

function reply(res, status, payload) {
  const data = Buffer.from(JSON.stringify(payload));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': data.length });
  res.end(data);
}

/** Client-side routes stay the emulator's own: pass the request through unchanged. */
function forward(req, body, res) {
  const upstream = http.request({
    host: HOST, port: emulator.config.port, method: req.method, path: req.url, headers: req.headers,
  }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', (error) => reply(res, 502, { ok: false, description: String(error) }));
  upstream.end(body);
}

async function handle(req, res) {
  const url = new URL(req.url, `http://${HOST}`);
  const body = await readBody(req);
  let match = /^\/bot([^/]+)\/([A-Za-z]+)\/?$/.exec(url.pathname);
  if (match) {
    const [, token, method] = match.map(decodeURIComponent);
    try {
      const result = await callBotApi(token, method, parseParams(req, url, body));
      reply(res, 200, { ok: true, result });
    } catch (error) {
      const code = error instanceof ApiError ? error.code : 500;
      if (code === 500) log(`${method}:`, error);
      reply(res, code, { ok: false, error_code: code, description: error.message });
    }
    return;
  }
  match = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
  if (match) {
    const path = decodeURIComponent(match[2]);
    const file = [...files.values()].find((candidate) => candidate.file_path === path);
    if (!file) return reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.data.length });
    return res.end(file.data);
  }
  if (url.pathname === '/bridge/events' || url.pathname === '/bridge/calls') {
    const query = body.length ? JSON.parse(body.toString('utf8')) : {};
    const state = bot(String(query.token));
    const result = url.pathname === '/bridge/calls'
      ? state.calls.filter((call) => !query.method || call.method === query.method)
      : state.events.filter((event) => event.chat_id === String(query.chatId)
        && event.seq > Number(query.after || 0));
    return reply(res, 200, { ok: true, result });
  }
  return forward(req, body, res);
}

/* ---------------------------------------------------------------- start and stop */

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function startEmulator() {
  for (let attempt = 1; ; attempt++) {
    const server = new TelegramServer({ port: await freePort(), host: HOST, storeTimeout: STORE_TIMEOUT_S });
    try {
      await server.start();
      return server;
    } catch (error) {
      if (attempt >= 5) throw error; // another process took the port in between: try another
    }
  }
}

async function main() {
  emulator = await startEmulator();
  const server = http.createServer((req, res) => handle(req, res).catch((error) => {
    log(error);
    if (!res.headersSent) reply(res, 500, { ok: false, error_code: 500, description: String(error) });
  }));
  await new Promise((resolve, reject) => server.once('error', reject).listen(PORT, HOST, resolve));
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 2000).unref(); // never hang on a stuck connection
    server.close();
    server.closeIdleConnections();
    await emulator.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`READY ${server.address().port}\n`);
}

// The emulator's client routes do not await their work: a bad request must not kill the server.
process.on('unhandledRejection', (error) => log('unhandled:', error));

main().catch((error) => {
  log('cannot start:', error);
  process.exit(1);
});
