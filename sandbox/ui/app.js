// The sandbox page: Slack's client side over the stand-in. It shows the workspace snapshot
// (GET /_sandbox/ui/state), refreshes it when the stand-in reports a change (server-sent events
// on /_sandbox/stream) and sends what the person does through the stand-in's driver, which signs
// it as Slack would (POST /_sandbox/command, /click, /view_submission, /home, /say). The
// Providers panel calls the provider stand-ins' control endpoints through
// /_sandbox/providers/<name>/. window.sandbox.state() exposes the page's state to tests.

import { createRenderer, h } from "./blocks.js";

const USER_KEY = "debrief-sandbox-user";
const ROUTE_KEY = "debrief-sandbox-route";
const IN_MEETING = new Set([
  "joined_not_recording", "joined_recording", "joined_recording_paused",
  "joining_breakout_room", "leaving_breakout_room", "joined_recording_permission_denied",
]);
const COLORS = ["#e8912d", "#2bac76", "#1264a3", "#cd2553", "#8e44ad", "#00897b", "#6d4c41", "#3949ab"];

const S = {
  config: null,
  data: null,
  user: null,
  route: { kind: "channel", id: null }, // or {kind: "app", tab: "home" | "messages"}
  thread: null, // {channel, ts}
  providersOpen: false,
  providerState: {},
  seen: new Map(), // message key -> its last content, to flash what changed
  dmSeen: {}, // user -> how many DM messages they have looked at
  dismissed: new Set(),
  modalKey: null,
  modalForm: null,
  homeKey: null,
  homeOpenedFor: null,
};

const $ = (id) => document.getElementById(id);

const renderer = createRenderer({
  users: () => (S.data ? S.data.users : []),
  channels: () => (S.data ? S.data.channels : []),
  tz: () => currentUser()?.tz || "UTC",
  act: (action, form) => click(form.container, action, form),
  confirm: (dialog) => confirmDialog(dialog),
});

// ---- talking to the stand-in

// The stand-in answers only its own page: the token's cookie (same origin only) and a JSON
// body, which no other site can send here without a CORS preflight (sandbox/lock.py).
function get(path) {
  return fetch(path, { cache: "no-store", credentials: "same-origin" });
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body ?? {}),
  });
  let answer;
  try {
    answer = await response.json();
  } catch {
    answer = { ok: false, error: `HTTP ${response.status}` };
  }
  if (!response.ok) answer.ok = false;
  // `status` in an answer is what the app answered the stand-in; `http` is the stand-in's own.
  return { ...answer, http: response.status };
}

// The stand-in refused (no app, bad request) or, with `appFailures`, the app did not answer 200.
function reportFailure(what, answer, { appFailures = true } = {}) {
  if (answer.ok) return;
  if (answer.http < 400 && !appFailures) return;
  const detail = answer.detail || answer.error || (answer.status ? `the app answered ${answer.status}` : "failed");
  toast(`${what}: ${detail}`, true);
}

async function click(container, action, form) {
  const busyTarget = document.activeElement === document.body ? null : document.activeElement;
  busyTarget?.classList?.add("busy");
  try {
    const answer = await post("/_sandbox/click", {
      user: S.user,
      container,
      action_id: action.action_id,
      block_id: action.block_id,
      value: action.value,
      values: form ? form.values() : {},
    });
    reportFailure("That action did not go through", answer);
    return answer;
  } finally {
    busyTarget?.classList?.remove("busy");
  }
}

async function refresh() {
  if (refresh.running) {
    refresh.again = true;
    return;
  }
  refresh.running = true;
  try {
    do {
      refresh.again = false;
      const response = await get("/_sandbox/ui/state");
      S.data = await response.json();
      render();
    } while (refresh.again);
  } catch (error) {
    console.error(error);
  } finally {
    refresh.running = false;
  }
}

function connect() {
  const status = $("connection");
  const source = new EventSource(`/_sandbox/stream?after=${S.data ? S.data.last_change : 0}`);
  let timer = null;
  source.addEventListener("open", () => {
    status.textContent = "live";
    status.className = "connection live";
    refresh();
  });
  source.addEventListener("change", () => {
    // Bursts of changes (a post then its update) become one refresh.
    clearTimeout(timer);
    timer = setTimeout(refresh, 40);
  });
  source.addEventListener("error", () => {
    status.textContent = "reconnecting…";
    status.className = "connection down";
  });
}

// ---- helpers over the snapshot

function users() {
  return S.data ? S.data.users : [];
}

function people() {
  return users().filter((u) => !u.is_bot && !u.deleted);
}

function currentUser() {
  return users().find((u) => u.id === S.user);
}

function user(id) {
  return users().find((u) => u.id === id);
}

function channel(id) {
  return S.data?.channels.find((c) => c.id === id);
}

function dmChannel() {
  return channel(`D${S.user.slice(1)}`);
}

function isMember(c) {
  const members = S.data.members?.[c.id];
  return !members || members.includes(S.user);
}

function visibleChannels() {
  return S.data.channels.filter((c) => !c.is_im && (!c.is_private || isMember(c)));
}

function initials(name) {
  return String(name || "?").split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();
}

function colorFor(id) {
  let sum = 0;
  for (const ch of String(id)) sum = (sum * 31 + ch.charCodeAt(0)) >>> 0;
  return COLORS[sum % COLORS.length];
}

function offsetLabel(seconds) {
  const sign = seconds < 0 ? "−" : "+";
  const abs = Math.abs(seconds);
  const hours = Math.floor(abs / 3600);
  const minutes = Math.floor((abs % 3600) / 60);
  return `UTC${sign}${hours}${minutes ? `:${String(minutes).padStart(2, "0")}` : ""}`;
}

function timeOf(ts) {
  return new Intl.DateTimeFormat("en-US", { timeZone: currentUser()?.tz || "UTC", hour: "numeric", minute: "2-digit" })
    .format(new Date(parseFloat(ts) * 1000));
}

function dayOf(ts) {
  const tz = currentUser()?.tz || "UTC";
  return renderer.formatDate(parseFloat(ts), "{day_divider_pretty}", tz);
}

function byTs(a, b) {
  return parseFloat(a.ts) - parseFloat(b.ts);
}

function myEphemerals(channelId, threadTs) {
  return S.data.ephemerals.filter(
    (e) => e.user === S.user && e.channel === channelId && (e.thread_ts || null) === (threadTs || null) &&
      !S.dismissed.has(`${e.channel}:${e.ts}`),
  );
}

function toast(text, error = false) {
  const node = h("div", { className: `toast${error ? " error" : ""}`, role: error ? "alert" : "status" }, text);
  $("toasts").append(node);
  setTimeout(() => node.remove(), error ? 7000 : 3500);
}

// ---- rendering

function render() {
  if (!S.data) return;
  if (!S.user || !user(S.user)) S.user = S.config.default_user;
  renderSidebar();
  if (S.route.kind === "app") renderApp();
  else renderChannel();
  renderThread();
  renderModal();
  if (S.providersOpen) renderProviders();
}

function renderSidebar() {
  $("workspace-name").textContent = S.data.team.name;
  const switcher = $("user-switcher");
  const options = people().map((u) => `${u.id}|${u.real_name}|${u.tz}`).join(",");
  if (switcher.dataset.options !== options) {
    switcher.replaceChildren(
      ...people().map((u) => h("option", { value: u.id }, `${u.real_name} · ${u.tz.split("/").pop().replace(/_/g, " ")}`)),
    );
    switcher.dataset.options = options;
  }
  switcher.value = S.user;
  const me = currentUser();
  $("user-tz").textContent = me ? `${me.tz} (${offsetLabel(me.tz_offset)}) · ${me.profile?.email || ""}` : "";

  const list = $("channel-list");
  list.replaceChildren(
    ...visibleChannels().map((c) => {
      const active = S.route.kind === "channel" && S.route.id === c.id;
      const member = isMember(c);
      return h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            className: active ? "active" : "",
            dataset: { channel: c.name },
            onclick: () => go({ kind: "channel", id: c.id }),
          },
          c.is_private ? "🔒" : "#",
          h("span", { className: member ? "" : "muted-name" }, c.name),
        ),
      );
    }),
  );
  const dm = dmChannel();
  const onDm = S.route.kind === "app" && S.route.tab === "messages";
  const dmCount = dm ? dm.messages.length : 0;
  if (onDm) S.dmSeen[S.user] = dmCount;
  const unread = dmCount - (S.dmSeen[S.user] || 0);
  $("dm-list").replaceChildren(
    dm
      ? h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              className: `${onDm ? "active" : ""} ${unread > 0 ? "unread" : ""}`.trim(),
              dataset: { dm: "debrief" },
              onclick: () => go({ kind: "app", tab: "messages" }),
            },
            h("span", { className: "avatar bot", style: "width:18px;height:18px;font-size:10px;border-radius:4px" }, "D"),
            "Debrief",
            unread > 0 ? h("span", { className: "count" }, String(unread)) : null,
          ),
        )
      : h("li", { className: "nav-empty" }, "None yet"),
  );
  const appActive = S.route.kind === "app";
  $("app-list").replaceChildren(
    h(
      "li",
      {},
      h(
        "button",
        { type: "button", className: appActive && !onDm ? "active" : "", dataset: { app: "debrief" }, onclick: () => go({ kind: "app", tab: "home" }) },
        h("span", { className: "avatar bot", style: "width:18px;height:18px;font-size:10px;border-radius:4px" }, "D"),
        "Debrief",
      ),
    ),
  );
}

function go(route) {
  S.route = route;
  if (route.kind === "channel") S.thread = null;
  sessionStorage.setItem(ROUTE_KEY, JSON.stringify(route));
  if (route.kind === "app" && route.tab === "home") openHome(true);
  render();
}

async function openHome(force = false) {
  // Slack sends app_home_opened each time the tab is opened.
  if (!force && S.homeOpenedFor === S.user) return;
  S.homeOpenedFor = S.user;
  const answer = await post("/_sandbox/home", { user: S.user });
  // An app without a Home tab answers app_home_opened with a 404: Slack shows an empty tab.
  reportFailure("Opening the Home tab failed", answer, { appFailures: false });
}

function setComposer(placeholder, enabled = true) {
  $("composer").hidden = !enabled;
  $("composer-input").placeholder = placeholder;
}

function renderChannel() {
  const c = channel(S.route.id) || channel(S.config.default_channel) || visibleChannels()[0];
  S.route = { kind: "channel", id: c.id };
  $("main-title").textContent = `${c.is_private ? "🔒 " : "#"}${c.name}`;
  document.title = `#${c.name} · Debrief sandbox`;
  const notes = [c.purpose?.value, `${c.num_members} members`];
  if (!c.is_member) notes.push("Debrief is not in this channel");
  $("main-subtitle").textContent = notes.filter(Boolean).join(" · ");
  $("app-tabs").hidden = true;
  $("home").hidden = true;
  $("messages").hidden = false;
  setComposer(`Message #${c.name} — try /debrief help`);
  renderHints();
  const items = [...c.messages.map((m) => ({ ...m, channel: c.id })), ...myEphemerals(c.id, null)].sort(byTs);
  renderList($("messages"), items, c, { emptyText: `This is the very beginning of #${c.name}.` });
}

function renderApp() {
  const tab = S.route.tab || "home";
  $("main-title").textContent = "Debrief";
  document.title = "Debrief · Debrief sandbox";
  $("main-subtitle").textContent = "App · meeting notetakers in Slack";
  const tabs = $("app-tabs");
  tabs.hidden = false;
  for (const button of tabs.querySelectorAll(".tab")) {
    button.classList.toggle("active", button.dataset.tab === tab);
  }
  if (tab === "home") {
    $("messages").hidden = true;
    $("home").hidden = false;
    setComposer("", false);
    $("hints").replaceChildren();
    renderHome();
    return;
  }
  $("home").hidden = true;
  $("messages").hidden = false;
  setComposer("Message Debrief — try /debrief help");
  renderHints();
  const dm = dmChannel();
  const items = dm ? [...dm.messages.map((m) => ({ ...m, channel: dm.id })), ...myEphemerals(dm.id, null)].sort(byTs) : [];
  renderList($("messages"), items, dm || { id: S.user, name: "Debrief" }, { emptyText: "Debrief has not sent you a message yet." });
}

function renderHome() {
  const home = S.data.homes[S.user];
  const root = $("home");
  const key = home ? `${S.user}:${home.id}:${home.hash}:${currentUser()?.tz}` : `${S.user}:none`;
  if (S.homeKey === key) return;
  S.homeKey = key;
  if (!home) {
    root.replaceChildren(h("div", { className: "empty" }, "Debrief has not published a Home tab for you yet."));
    return;
  }
  const container = { type: "view", view_id: home.id };
  root.replaceChildren(blocksFor(home.blocks, container).node);
  root.dataset.viewId = home.id;
}

function renderHints() {
  const hints = $("hints");
  if (hints.childElementCount) return;
  const examples = ["/debrief join https://us05web.zoom.us/j/84315220467", "/debrief bots", "/debrief help"];
  hints.replaceChildren(
    "Try:",
    ...examples.map((text) =>
      h("button", { type: "button", className: "hint-chip", onclick: () => {
        const input = $("composer-input");
        input.value = text;
        input.focus();
      } }, text),
    ),
  );
}

// Blocks wired to a container: clicks go to /_sandbox/click with the container.
function blocksFor(blocks, container) {
  const rendered = renderer.blocks(blocks);
  // The renderer calls ctx.act(action, form); the container travels with the form.
  rendered.form.container = container;
  return rendered;
}

function messageKey(m) {
  return `${m.is_ephemeral ? "e" : "m"}:${m.channel}:${m.ts}`;
}

function renderList(root, items, c, { emptyText, inThread = false }) {
  const wasAtBottom = root.scrollHeight - root.scrollTop - root.clientHeight < 80;
  const existing = new Map([...root.querySelectorAll(":scope > .message")].map((n) => [n.dataset.key, n]));
  const nodes = [];
  let lastDay = null;
  if (!items.length) nodes.push(h("div", { className: "empty" }, emptyText));
  items.forEach((m, index) => {
    if (!inThread) {
      const day = dayOf(m.ts);
      if (day !== lastDay) nodes.push(h("div", { className: "day-divider" }, day));
      lastDay = day;
    }
    if (inThread && index === 1) {
      const count = items.length - 1;
      nodes.push(h("div", { className: "reply-count" }, `${count} ${count === 1 ? "reply" : "replies"}`));
    }
    const key = messageKey(m);
    const content = JSON.stringify(m);
    // Rebuilt when the message or the viewer changes; highlighted only when the message did.
    const signature = JSON.stringify([content, S.user, currentUser()?.tz, inThread]);
    let node = existing.get(key);
    if (!node || node.dataset.signature !== signature) {
      const previous = S.seen.get(`${inThread}:${key}`);
      node = messageNode(m, c, inThread);
      node.dataset.signature = signature;
      if (previous && previous !== content) node.classList.add("flash");
    }
    S.seen.set(`${inThread}:${key}`, content);
    nodes.push(node);
  });
  root.replaceChildren(...nodes);
  if (wasAtBottom || root.dataset.route !== routeKey(inThread)) root.scrollTop = root.scrollHeight;
  root.dataset.route = routeKey(inThread);
}

function routeKey(inThread) {
  if (inThread) return S.thread ? `${S.thread.channel}:${S.thread.ts}` : "";
  return `${S.route.kind}:${S.route.id || S.route.tab}:${S.user}`;
}

function messageNode(m, c, inThread) {
  const ephemeral = Boolean(m.is_ephemeral);
  const isBot = Boolean(m.bot_id) || ephemeral;
  const author = isBot ? null : user(m.user);
  const name = isBot ? (m.bot_profile?.name || "Debrief") : author ? author.real_name : m.user || "Slackbot";
  const container = { type: ephemeral ? "ephemeral" : "message", channel: m.channel, ts: m.ts };

  const avatar = isBot
    ? h("div", { className: "avatar bot" }, "D")
    : h("div", { className: "avatar", style: `background:${colorFor(m.user)}` }, initials(name));
  const meta = h(
    "div",
    { className: "meta" },
    h("span", { className: "name" }, name),
    isBot ? h("span", { className: "badge" }, "APP") : null,
    h("span", { className: "time", title: new Date(parseFloat(m.ts) * 1000).toISOString() }, timeOf(m.ts)),
    m.edited ? h("span", { className: "edited" }, "(edited)") : null,
  );
  const content = h("div", { className: "content" }, meta);
  if (ephemeral) {
    content.prepend(
      h("div", { className: "only-you" }, "👁 Only visible to you",
        h("button", { type: "button", className: "link-button", onclick: () => {
          S.dismissed.add(`${m.channel}:${m.ts}`);
          render();
        } }, "Dismiss")),
    );
  }
  const body = h("div", { className: "body" });
  if (m.blocks && m.blocks.length) {
    body.append(blocksFor(m.blocks, container).node);
  } else if (m.text) {
    body.append(renderer.mrkdwn(m.text));
  }
  content.append(body);
  for (const attachment of m.attachments || []) content.append(attachmentNode(attachment, container));
  for (const file of m.files || []) content.append(fileNode(file));

  if (!inThread && m.reply_count) {
    content.append(
      h("div", { className: "thread-summary" },
        h("button", { type: "button", className: "link-button", dataset: { openThread: m.ts }, onclick: () => openThread(m.channel, m.ts) },
          `${m.reply_count} ${m.reply_count === 1 ? "reply" : "replies"}`),
        " ",
        h("span", { className: "hint" }, `Last reply ${timeOf(m.latest_reply)}`)),
    );
  }
  const node = h("div", { className: `message${ephemeral ? " ephemeral" : ""}${m.subtype === "tombstone" ? " tombstone" : ""}`, dataset: { key: messageKey(m), ts: m.ts } }, avatar, content);
  if (!inThread && !ephemeral && c && !m.subtype) {
    node.append(h("div", { className: "hover-actions" },
      h("button", { type: "button", onclick: () => openThread(m.channel, m.ts) }, "💬 Reply in thread")));
  }
  return node;
}

function attachmentNode(attachment, container) {
  const color = /^#?[0-9a-f]{6}$/i.test(attachment.color || "") ? `#${attachment.color.replace("#", "")}` : { good: "#2bac76", warning: "#e8a723", danger: "#e01e5a" }[attachment.color] || "#ddd";
  const node = h("div", { className: "attachment", style: `border-left-color:${color}` });
  if (attachment.pretext) node.append(renderer.mrkdwn(attachment.pretext));
  if (attachment.title) node.append(h("div", { className: "name" }, attachment.title));
  if (attachment.blocks && attachment.blocks.length) node.append(blocksFor(attachment.blocks, container).node);
  else if (attachment.text) node.append(renderer.mrkdwn(attachment.text));
  for (const field of attachment.fields || []) {
    node.append(h("div", {}, h("b", {}, field.title || ""), h("div", {}, renderer.mrkdwn(field.value || ""))));
  }
  if (attachment.footer) node.append(h("div", { className: "hint" }, attachment.footer));
  return node;
}

function fileNode(file) {
  const size = file.size >= 1024 ? `${(file.size / 1024).toFixed(1)} KB` : `${file.size} B`;
  return h("div", { className: "file" }, "📄",
    h("div", {},
      h("a", { className: "file-name", href: `/_sandbox/files/${encodeURIComponent(file.id)}`, target: "_blank", rel: "noopener" }, file.title || file.name),
      h("div", { className: "hint" }, `${file.pretty_type || file.filetype} · ${size}`)));
}

// ---- threads

function openThread(channelId, ts) {
  S.thread = { channel: channelId, ts };
  render();
  $("thread-input").focus();
}

function renderThread() {
  const pane = $("thread");
  if (!S.thread) {
    pane.hidden = true;
    return;
  }
  const c = channel(S.thread.channel);
  const parent = c?.messages.find((m) => m.ts === S.thread.ts);
  if (!c || !parent) {
    S.thread = null;
    pane.hidden = true;
    return;
  }
  pane.hidden = false;
  $("thread-channel").textContent = c.is_im ? "Debrief" : `#${c.name}`;
  const replies = (c.threads[S.thread.ts] || []).map((m) => ({ ...m, channel: c.id }));
  const items = [{ ...parent, channel: c.id }, ...[...replies, ...myEphemerals(c.id, S.thread.ts)].sort(byTs)];
  renderList($("thread-messages"), items, c, { emptyText: "", inThread: true });
}

// ---- modals

function renderModal() {
  const root = $("modal-root");
  const stack = S.data.modals[S.user] || [];
  const view = stack[stack.length - 1];
  if (!view) {
    if (S.modalKey) root.querySelector(".overlay.view")?.remove();
    S.modalKey = null;
    S.modalForm = null;
    return;
  }
  const key = `${S.user}:${view.id}:${view.hash}`;
  if (S.modalKey !== key) {
    S.modalKey = key;
    root.querySelector(".overlay.view")?.remove();
    const container = { type: "view", view_id: view.id };
    const { node, form } = blocksFor(view.blocks, container);
    S.modalForm = form;
    const close = () => closeView(view);
    const submit = async (event) => {
      event.preventDefault();
      const answer = await post("/_sandbox/view_submission", { user: S.user, view_id: view.id, values: form.values() });
      if (answer.errors && Object.keys(answer.errors).length) form.showErrors(answer.errors);
      reportFailure("Submitting failed", answer);
    };
    const modal = h(
      "form",
      { className: "modal", role: "dialog", "aria-modal": "true", dataset: { viewId: view.id, callbackId: view.callback_id || "" }, onsubmit: submit },
      h("header", {}, h("h2", {}, renderer.text(view.title)),
        h("button", { type: "button", className: "icon-button", "aria-label": "Close", onclick: close }, "✕")),
      h("div", { className: "modal-body" }, node),
      h("footer", {},
        h("button", { type: "button", className: "bk-button", onclick: close }, renderer.text(view.close || { type: "plain_text", text: stack.length > 1 ? "Back" : "Cancel" })),
        view.submit ? h("button", { type: "submit", className: "bk-button bk-primary" }, renderer.text(view.submit)) : null),
    );
    root.append(h("div", { className: "overlay view" }, modal));
  }
  S.modalForm?.showErrors(S.data.view_errors?.[view.id] || {});
}

async function closeView(view) {
  const answer = await post("/_sandbox/view_close", { user: S.user, view_id: view.id });
  reportFailure("Closing failed", answer);
}

function confirmDialog(dialog) {
  return new Promise((resolve) => {
    const done = (ok) => {
      overlay.remove();
      resolve(ok);
    };
    const danger = dialog.style === "danger";
    const overlay = h(
      "div",
      { className: "overlay confirm-overlay" },
      h("div", { className: "modal confirm", role: "alertdialog" },
        h("header", {}, h("h2", {}, renderer.text(dialog.title || { type: "plain_text", text: "Are you sure?" }))),
        h("div", { className: "modal-body" }, renderer.text(dialog.text)),
        h("footer", {},
          h("button", { type: "button", className: "bk-button", dataset: { confirm: "deny" }, onclick: () => done(false) }, renderer.text(dialog.deny || { type: "plain_text", text: "Cancel" })),
          h("button", { type: "button", className: `bk-button ${danger ? "bk-danger" : "bk-primary"}`, dataset: { confirm: "confirm" }, onclick: () => done(true) }, renderer.text(dialog.confirm || { type: "plain_text", text: "Yes" })))),
    );
    $("modal-root").append(overlay);
  });
}

// ---- composer

async function send(text, { channelId, threadTs }) {
  const trimmed = text.trim();
  if (!trimmed) return;
  if (trimmed.startsWith("/")) {
    if (threadTs) {
      toast("Slash commands are sent from the channel's composer, not from a thread.", true);
      return;
    }
    const answer = await post("/_sandbox/command", { user: S.user, channel: channelId, text: trimmed });
    // A failure the app caused shows up as Slack's own error message in the channel.
    reportFailure("The command did not go through", answer, { appFailures: false });
    return;
  }
  const answer = await post("/_sandbox/say", { user: S.user, channel: channelId, text: trimmed, thread_ts: threadTs });
  reportFailure("Posting failed", answer);
}

function currentChannelId() {
  if (S.route.kind === "app") return dmChannel()?.id || S.user;
  return S.route.id;
}

function wireComposer(formId, inputId, target) {
  const form = $(formId);
  const input = $(inputId);
  const submit = async (event) => {
    event?.preventDefault();
    const text = input.value;
    input.value = "";
    autosize(input);
    await send(text, target());
  };
  form.addEventListener("submit", submit);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) submit(event);
  });
  input.addEventListener("input", () => autosize(input));
}

function autosize(input) {
  input.style.height = "auto";
  input.style.height = `${Math.min(160, input.scrollHeight)}px`;
}

// ---- the Providers panel

// The stand-ins the World runs, their headings and where their state is read come from the
// page's config (`panels`, from each stand-in's own declaration). These are the renderers the
// page has of its own; any other stand-in gets the generic one.
const RENDERERS = {
  attendee: attendeeSection,
  otter: otterSection,
  whereby: wherebySection,
  claritalk: claritalkSection,
  llm: llmSection,
};

function panels() {
  return Object.entries(S.config.panels || {});
}

function providerUrl(name, path) {
  return `/_sandbox/providers/${name}/${path}`;
}

async function providerCall(name, path, body, label) {
  const answer = await post(providerUrl(name, path), body);
  // Otter and Claritalk answer with the status the app gave their webhook.
  const webhooks = [...(answer.deliveries || []), ...(typeof answer.status === "number" ? [answer] : [])];
  const refused = webhooks.find((d) => !(d.status >= 200 && d.status < 300));
  if (answer.http >= 400 || answer.ok === false) {
    toast(`${label}: ${answer.error || answer.detail || answer.http}`, true);
  } else if (refused) {
    toast(`${label}, but the app answered its webhook with ${refused.status || "no answer"}`, true);
  } else {
    toast(`${label} ✓`);
  }
  await loadProviders();
  return answer;
}

async function loadProviders() {
  await Promise.all(
    panels().map(async ([name, panel]) => {
      if (!S.config.providers[name]) return;
      try {
        const response = await get(providerUrl(name, panel.state));
        S.providerState[name] = response.ok ? await response.json() : { error: `HTTP ${response.status}` };
      } catch (error) {
        S.providerState[name] = { error: String(error) };
      }
    }),
  );
  renderProviders();
}

function renderProviders() {
  const pane = $("providers");
  pane.hidden = !S.providersOpen;
  $("providers-toggle").setAttribute("aria-expanded", String(S.providersOpen));
  if (!S.providersOpen) return;
  const body = $("providers-body");
  // Keep what someone is typing in the panel: rebuild only sections whose state changed.
  for (const [name, panel] of panels()) {
    const running = Boolean(S.config.providers[name]);
    const state = S.providerState[name];
    const signature = JSON.stringify([running, state, currentUser()?.tz]);
    let section = body.querySelector(`[data-provider="${name}"]`);
    if (section && section.dataset.signature === signature) continue;
    // What someone typed or chose in the panel survives the refresh.
    const kept = {};
    let focused = null;
    for (const input of section ? section.querySelectorAll("[data-keep]") : []) {
      kept[input.dataset.keep] = input.value;
      if (input === document.activeElement) focused = input.dataset.keep;
    }
    const fresh = h("section", { className: "provider", dataset: { provider: name } },
      h("h2", {}, panel.title || name, running ? h("span", { className: "state live" }, "running") : null));
    if (!running) fresh.append(h("div", { className: "missing" }, "Not running in this sandbox."));
    else if (!state) fresh.append(h("div", { className: "missing" }, "Loading…"));
    else if (state.error) fresh.append(h("div", { className: "missing" }, `Unavailable: ${state.error}`));
    else (RENDERERS[name] || genericSection(name))(fresh, state);
    fresh.dataset.signature = signature;
    for (const input of fresh.querySelectorAll("[data-keep]")) {
      if (input.dataset.keep in kept) input.value = kept[input.dataset.keep];
    }
    if (section) section.replaceWith(fresh);
    else body.append(fresh);
    if (focused) fresh.querySelector(`[data-keep="${CSS.escape(focused)}"]`)?.focus();
  }
}

function stateBadge(state) {
  const kind = IN_MEETING.has(state) ? "live" : ["ended"].includes(state) ? "done" : ["fatal_error"].includes(state) ? "bad" : "";
  return h("span", { className: `state ${kind}` }, String(state).replace(/_/g, " "));
}

function button(label, onclick, style = "") {
  return h("button", { type: "button", className: `bk-button ${style}`.trim(), onclick }, label);
}

function attendeeSection(root, state) {
  const bots = [...(state.bots || [])].reverse();
  if (!bots.length) root.append(h("div", { className: "missing" }, "No notetakers yet: type /debrief join <zoom link> in a channel."));
  for (const bot of bots) {
    const path = (action) => `attendee/bots/${encodeURIComponent(bot.id)}/${action}`;
    const actions = h("div", { className: "provider-actions" });
    if (["ready", "scheduled", "staged"].includes(bot.state)) {
      actions.append(button("Join now", () => providerCall("attendee", path("join"), {}, "Joined")));
    }
    // You are the meeting's host: a notetaker knocking (joining, or in the waiting room) waits
    // for you to let it in or to make it give up, with the reason Attendee would report.
    if (["joining", "waiting_room"].includes(bot.state)) {
      actions.append(button("Admit", () => providerCall("attendee", path("join"), {}, "Admitted"), "bk-primary"));
      const reason = bot.state === "waiting_room" ? "waiting_room_timeout_exceeded" : "meeting_not_started_waiting_for_host";
      actions.append(button("Fail to join", () => providerCall("attendee", path("fail_to_join"), { sub_type: reason }, "Failed to join"), "bk-danger"));
    }
    if (IN_MEETING.has(bot.state)) {
      const speaker = h("select", { "aria-label": "Speaker", dataset: { keep: `${bot.id}:speaker` } }, people().map((u) => h("option", { value: u.real_name }, u.real_name.split(" ")[0])));
      const text = h("input", { type: "text", placeholder: "Say something…", "aria-label": "What they say", dataset: { keep: `${bot.id}:text` } });
      const say = () => {
        if (!text.value.trim()) return;
        const words = text.value;
        text.value = "";
        providerCall("attendee", path("say"), { speaker: speaker.value, text: words }, "Said");
      };
      text.addEventListener("keydown", (event) => {
        if (event.key === "Enter") say();
      });
      actions.append(button("End meeting", () => providerCall("attendee", path("end_meeting"), {}, "Meeting ended"), "bk-primary"));
      actions.append(h("div", { className: "provider-actions" }, speaker, text, button("Say", say)));
    }
    root.append(
      h("div", { className: "provider-row", dataset: { botId: bot.id } },
        h("div", { className: "row-title" }, stateBadge(bot.state), " ", bot.id),
        h("div", { className: "row-meta" }, bot.meeting_url),
        h("div", { className: "row-meta" }, `${bot.transcript_lines} transcript line${bot.transcript_lines === 1 ? "" : "s"}`),
        actions),
    );
  }
  attendeeCalendars(root, state.calendars || []);
}

// Attendee's synced calendars, as the calendar owner's Google or Microsoft account would change
// them: move or cancel an event, add one, revoke Debrief's access or grant it again. Each change
// syncs the calendar (and sends calendar.events_update / calendar.state_change) as Attendee would.
function attendeeCalendars(root, calendars) {
  root.append(h("h3", { className: "provider-subtitle" }, "Calendars"));
  if (!calendars.length) {
    root.append(h("div", { className: "missing" }, "No calendars yet: type /debrief calendar connect google."));
    return;
  }
  for (const calendar of calendars) {
    const path = (action) => `attendee/calendars/${encodeURIComponent(calendar.id)}/${action}`;
    const owner = (calendar.metadata || {}).slack_user_id || (calendar.metadata || {}).email || "no owner in metadata";
    const actions = h("div", { className: "provider-actions" },
      button("Sync now", () => providerCall("attendee", path("sync"), {}, "Synced")),
      button("Add event", () => providerCall("attendee", path("add_event"), { title: "Quick sync" }, "Event added")));
    if (calendar.state === "connected") {
      actions.append(button("Revoke token", () => providerCall("attendee", path("revoke"), {}, "Token revoked"), "bk-danger"));
    } else {
      actions.append(button("Reconnect", () => providerCall("attendee", path("reconnect"), {}, "Reconnected"), "bk-primary"));
    }
    const failure = calendar.connection_failure_data ? h("div", { className: "row-meta" }, calendar.connection_failure_data.error) : null;
    root.append(
      h("div", { className: "calendar-row", dataset: { calendarId: calendar.id } },
        h("div", { className: "row-title" }, h("span", { className: `state ${calendar.state === "connected" ? "live" : "bad"}` }, calendar.state), " ", `${calendar.platform} · ${owner}`),
        h("div", { className: "row-meta" }, calendar.last_successful_sync_at ? `synced ${whenOf(calendar.last_successful_sync_at)}` : "not synced yet"),
        failure,
        actions),
    );
    for (const event of calendar.events || []) root.append(calendarEventRow(event));
  }
}

function calendarEventRow(event) {
  const path = (action) => `attendee/calendar_events/${encodeURIComponent(event.id)}/${action}`;
  const actions = h("div", { className: "provider-actions" });
  if (!event.is_deleted) {
    actions.append(button("Move +30 min", () => providerCall("attendee", path("move"), { minutes: 30 }, "Event moved")));
    actions.append(button("Cancel", () => providerCall("attendee", path("cancel"), {}, "Event cancelled"), "bk-danger"));
  }
  const bots = (event.bots || []).map((bot) => h("span", {}, " ", stateBadge(bot.state), " ", bot.id));
  const notes = [event.meeting_url || "no link", event.external.length ? `external: ${event.external.join(", ")}` : ""].filter(Boolean).join(" · ");
  return h("div", { className: `calendar-row calendar-event${event.is_deleted ? " cancelled" : ""}`, dataset: { eventId: event.id } },
    h("div", { className: "row-title" }, event.is_deleted ? h("span", { className: "state bad" }, "cancelled") : null, " ", event.name || "(no title)", ...bots),
    h("div", { className: "row-meta" }, `${whenOf(event.start_time)} · ${notes}`),
    actions);
}

// A provider's ISO 8601 time as the acting person reads times: in their zone, relative day.
function whenOf(iso) {
  const seconds = Date.parse(iso || "") / 1000;
  if (Number.isNaN(seconds)) return iso || "";
  return renderer.formatDate(seconds, "{date_short_pretty} at {time}", currentUser()?.tz || "UTC");
}

function otterSection(root, state) {
  const conversations = state.conversations || [];
  for (const conversation of conversations) {
    const actions = h("div", { className: "provider-actions" });
    if (!conversation.ready) {
      actions.append(button("Finish processing", () => providerCall("otter", `otter/conversations/${encodeURIComponent(conversation.id)}/finish`, {}, "Otter finished processing"), "bk-primary"));
    } else {
      actions.append(button("Send the webhook again", () => providerCall("otter", `otter/conversations/${encodeURIComponent(conversation.id)}/finish`, {}, "Otter webhook sent")));
    }
    root.append(
      h("div", { className: "provider-row", dataset: { conversationId: conversation.id } },
        h("div", { className: "row-title" }, h("span", { className: `state ${conversation.ready ? "done" : "live"}` }, conversation.ready ? "ready" : "processing"), " ", conversation.title),
        h("div", { className: "row-meta" }, whenOf(conversation.created_at), " · id ", h("code", { className: "conversation-id" }, conversation.id)),
        actions),
    );
  }
  const title = h("input", { type: "text", placeholder: "New conversation title", "aria-label": "Conversation title", dataset: { keep: "otter:title" } });
  root.append(
    h("div", { className: "provider-actions" }, title,
      button("Record a conversation", () => providerCall("otter", "otter/conversations", { title: title.value || "Quick sync", processing: true }, "Otter is processing"))),
  );
}

function wherebySection(root, state) {
  const meetings = state.meetings || [];
  if (!meetings.length) root.append(h("div", { className: "missing" }, "No rooms yet: Debrief creates them (/debrief room)."));
  for (const meeting of meetings) {
    const room = encodeURIComponent(String(meeting.roomName || "").replace(/^\//, ""));
    const path = (action) => `whereby/rooms/${room}/${action}`;
    const guest = h("input", { type: "text", placeholder: "Guest name", "aria-label": "Guest name", dataset: { keep: `${meeting.roomName}:guest` } });
    root.append(
      h("div", { className: "provider-row", dataset: { room: meeting.roomName } },
        h("div", { className: "row-title" }, meeting.roomName),
        h("div", { className: "row-meta" }, meeting.roomUrl || ""),
        h("div", { className: "provider-actions" },
          button("Start session", () => providerCall("whereby", path("session/start"), {}, "Session started")),
          button("End session", () => providerCall("whereby", path("session/end"), {}, "Session ended")),
          button("Finish recording", () => providerCall("whereby", path("recording/finish"), {}, "Recording finished")),
          button("Finish transcription", () => providerCall("whereby", path("transcription/finish"), {}, "Transcription finished"), "bk-primary")),
        h("div", { className: "provider-actions" }, guest,
          button("Someone joins", () => providerCall("whereby", path("clients"), { displayName: guest.value || "Guest" }, "Joined")))),
    );
  }
}

function claritalkSection(root, state) {
  for (const meeting of (state.meetings || []).slice(-5).reverse()) {
    root.append(
      h("div", { className: "provider-row" },
        h("div", { className: "row-title" }, h("span", { className: "state done" }, meeting.status || "processed"), " ", meeting.title || meeting.meetingId),
        h("div", { className: "row-meta" }, meeting.meetingId || "")),
    );
  }
  if (!state.webhook_url) root.append(h("div", { className: "missing" }, "No webhook registered with Claritalk yet."));
  const title = h("input", { type: "text", placeholder: "Meeting title", "aria-label": "Meeting title", dataset: { keep: "claritalk:title" } });
  root.append(
    h("div", { className: "provider-actions" }, title,
      button("Process a meeting", () => providerCall("claritalk", "claritalk/meetings", { title: title.value || "Weekly standup" }, "Claritalk processed a meeting"), "bk-primary")),
  );
}

// A stand-in the page has no renderer of its own for: its state as a list (a row per entry, a
// list's items each on a line), and its `controls` ([{label, path, body?}], paths under its
// /_sandbox/ control endpoints) as buttons.
function genericSection(name) {
  const shown = (value) => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      return Object.entries(value).map(([key, item]) => `${key}: ${typeof item === "string" ? item : JSON.stringify(item)}`).join(" · ");
    }
    return typeof value === "string" ? value : JSON.stringify(value);
  };
  return (root, state) => {
    for (const [key, value] of Object.entries(state)) {
      if (key === "controls") continue;
      const items = Array.isArray(value) ? value : [value];
      root.append(
        h("div", { className: "provider-row", dataset: { key } },
          h("div", { className: "row-title" }, key),
          items.length ? items.map((item) => h("div", { className: "row-meta" }, shown(item))) : h("div", { className: "row-meta" }, "none")),
      );
    }
    const controls = Array.isArray(state.controls) ? state.controls : [];
    if (!controls.length) return;
    root.append(
      h("div", { className: "provider-actions" },
        controls.map((control) => {
          const label = String(control.label || control.path);
          return button(label, () => providerCall(name, String(control.path), control.body || {}, label));
        })),
    );
  };
}

// The model engine's stand-in: how many completions it served, and what the next ones will be.
const LLM_ANSWERS = [
  ["invalid_json", "Invalid JSON"],
  ["schema_invalid", "Wrong schema"],
  ["error", "500"],
  ["rate_limited", "429"],
  ["slow", "Slow"],
];

function llmSection(root, state) {
  const next = (state.next || []).map((kind) => kind.replace(/_/g, " ")).join(", ") || "valid answers";
  root.append(
    h("div", { className: "provider-row" },
      h("div", { className: "row-title" }, h("span", { className: "state live" }, state.model || "model"), ` ${state.calls || 0} request(s), ${state.served || 0} answered`),
      h("div", { className: "row-meta" }, `Next: ${next}`)),
    h("div", { className: "provider-actions" },
      ...LLM_ANSWERS.map(([kind, label]) =>
        button(label, () => providerCall("llm", "llm/next", { answer: kind }, `The next model answer: ${label}`))),
      button("Reset", () => providerCall("llm", "llm/reset", {}, "The model answers normally again"))),
  );
}

let providerTimer = null;

function toggleProviders(open) {
  S.providersOpen = open;
  clearInterval(providerTimer);
  if (open) {
    loadProviders();
    providerTimer = setInterval(loadProviders, 2000);
  }
  renderProviders();
}

// ---- start

// The printed URL's ?token= is now in the page's cookie: keep it out of history and bookmarks.
function forgetToken() {
  const url = new URL(window.location.href);
  if (!url.searchParams.has("token")) return;
  url.searchParams.delete("token");
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
}

async function start() {
  forgetToken();
  const configured = await get("/_sandbox/config");
  if (!configured.ok) throw new Error((await configured.json()).detail || `HTTP ${configured.status}`);
  S.config = await configured.json();
  const saved = localStorage.getItem(USER_KEY);
  S.user = saved || S.config.default_user;
  try {
    const route = JSON.parse(sessionStorage.getItem(ROUTE_KEY) || "null");
    if (route && route.kind) S.route = route;
  } catch {
    // a bad saved route means the default channel
  }
  if (!S.route.id && S.route.kind === "channel") S.route = { kind: "channel", id: S.config.default_channel };

  $("user-switcher").addEventListener("change", (event) => {
    S.user = event.target.value;
    localStorage.setItem(USER_KEY, S.user);
    S.homeKey = null;
    S.modalKey = null;
    document.querySelector("#modal-root .overlay.view")?.remove();
    if (S.route.kind === "app" && S.route.tab === "home") openHome(true);
    render();
  });
  for (const tab of document.querySelectorAll("#app-tabs .tab")) {
    tab.addEventListener("click", () => go({ kind: "app", tab: tab.dataset.tab }));
  }
  $("thread-close").addEventListener("click", () => {
    S.thread = null;
    render();
  });
  $("providers-toggle").addEventListener("click", () => toggleProviders(!S.providersOpen));
  $("providers-close").addEventListener("click", () => toggleProviders(false));
  wireComposer("composer", "composer-input", () => ({ channelId: currentChannelId(), threadTs: null }));
  wireComposer("thread-composer", "thread-input", () => ({ channelId: S.thread?.channel, threadTs: S.thread?.ts }));

  await refresh();
  if (S.route.kind === "app" && S.route.tab === "home") openHome(true);
  connect();
  window.sandbox = { state: () => S, refresh };
}

start().catch((error) => {
  console.error(error);
  toast(`The sandbox page could not start: ${error}`, true);
});
