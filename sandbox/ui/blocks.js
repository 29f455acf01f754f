// Block Kit -> DOM, for the sandbox page. No HTML strings: every piece of text becomes a text
// node, so nothing an app posts can inject markup into the page.
//
// createRenderer(ctx) returns {blocks, mrkdwn, text, element, messageText}. ctx supplies:
//   users(): [{id, real_name, name, tz, is_bot, deleted}], channels(): [{id, name, is_im}],
//   tz(): the viewer's IANA time zone, now(): ms since the epoch,
//   act({action_id, block_id, type, value}, form): a click or a choice (returns a Promise),
//   confirm(dialog): resolves true when a confirm dialog is accepted,
//   fileUrl(file): where the page can show an uploaded file.
// blocks(list, {inModal}) returns {node, form}; form.values() gives {block_id: {action_id:
// value}} of every element the person touched, form.showErrors({block_id: message}) marks inputs.

const EMOJI = {
  white_check_mark: "✅", heavy_check_mark: "✔️", ballot_box_with_check: "☑️", x: "❌",
  warning: "⚠️", memo: "📝", spiral_note_pad: "🗒️", calendar: "📆", date: "📅",
  clipboard: "📋", hourglass: "⌛", hourglass_flowing_sand: "⏳", tada: "🎉",
  red_circle: "🔴", large_green_circle: "🟢", large_yellow_circle: "🟡", large_blue_circle: "🔵",
  robot_face: "🤖", movie_camera: "🎥", film_frames: "🎞️", clapper: "🎬", link: "🔗",
  bulb: "💡", pushpin: "📌", speech_balloon: "💬", alarm_clock: "⏰", zap: "⚡",
  sparkles: "✨", bust_in_silhouette: "👤", busts_in_silhouette: "👥", wave: "👋",
  thumbsup: "👍", "+1": "👍", thumbsdown: "👎", eyes: "👀", fire: "🔥", rocket: "🚀",
  microphone: "🎤", headphones: "🎧", telephone_receiver: "📞", stopwatch: "⏱️",
  no_entry: "⛔", no_entry_sign: "🚫", information_source: "ℹ️", question: "❓",
  exclamation: "❗", arrows_counterclockwise: "🔄", repeat: "🔁", inbox_tray: "📥",
  outbox_tray: "📤", page_facing_up: "📄", bookmark_tabs: "📑", mag: "🔍", lock: "🔒",
  key: "🔑", gear: "⚙️", bell: "🔔", hammer_and_wrench: "🛠️", chart_with_upwards_trend: "📈",
  bar_chart: "📊", dart: "🎯", checkered_flag: "🏁", construction: "🚧", stop_sign: "🛑",
  door: "🚪", smile: "😄", slightly_smiling_face: "🙂", raised_hands: "🙌", pray: "🙏",
  hourglass_done: "⌛", arrow_right: "➡️", leftwards_arrow_with_hook: "↩️",
};

const SAFE_URL = /^(https?:|mailto:)/i;

// One element, with its children; attributes starting with "on" become listeners.
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "className") {
      node.className = value;
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (key in node && typeof value !== "string") {
      node[key] = value;
    } else {
      node.setAttribute(key, value === true ? "" : value);
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Slack escapes &, < and > in message text; the markup characters are the unescaped ones.
export function decodeEntities(text) {
  return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

export function emoji(name) {
  return EMOJI[name] || null;
}

function ordinal(day) {
  const tens = day % 100;
  if (tens >= 11 && tens <= 13) return `${day}th`;
  return `${day}${{ 1: "st", 2: "nd", 3: "rd" }[day % 10] || "th"}`;
}

function parts(date, tz, options) {
  const found = {};
  for (const part of new Intl.DateTimeFormat("en-US", { timeZone: tz, ...options }).formatToParts(date)) {
    found[part.type] = part.value;
  }
  return found;
}

function dayKey(date, tz) {
  const p = parts(date, tz, { year: "numeric", month: "2-digit", day: "2-digit" });
  return `${p.year}-${p.month}-${p.day}`;
}

function pretty(date, tz, now, fallback) {
  const day = 24 * 3600 * 1000;
  const key = dayKey(date, tz);
  if (key === dayKey(new Date(now), tz)) return "Today";
  if (key === dayKey(new Date(now - day), tz)) return "Yesterday";
  if (key === dayKey(new Date(now + day), tz)) return "Tomorrow";
  return fallback;
}

function ago(seconds) {
  const abs = Math.abs(seconds);
  const units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [name, size] of units) {
    if (abs >= size) {
      const n = Math.floor(abs / size);
      const label = `${n} ${name}${n === 1 ? "" : "s"}`;
      return seconds >= 0 ? `${label} ago` : `in ${label}`;
    }
  }
  return seconds >= 0 ? "just now" : "in a moment";
}

// Slack's <!date^…> and rich-text date tokens, in the viewer's time zone.
export function formatDate(timestamp, format, tz, now = Date.now()) {
  const date = new Date(Number(timestamp) * 1000);
  if (Number.isNaN(date.getTime())) return null;
  const p = parts(date, tz, {
    year: "numeric", month: "long", day: "numeric", weekday: "long",
    hour: "numeric", minute: "2-digit", second: "2-digit", hour12: true,
  });
  const num = dayKey(date, tz);
  const monthShort = p.month.slice(0, 3);
  const tokens = {
    date_num: num,
    date: `${p.month} ${ordinal(Number(p.day))}, ${p.year}`,
    date_short: `${monthShort} ${Number(p.day)}, ${p.year}`,
    date_long: `${p.weekday}, ${p.month} ${ordinal(Number(p.day))}, ${p.year}`,
    time: `${p.hour}:${p.minute} ${p.dayPeriod}`,
    time_secs: `${p.hour}:${p.minute}:${p.second} ${p.dayPeriod}`,
    ago: ago((now - date.getTime()) / 1000),
  };
  tokens.date_pretty = pretty(date, tz, now, tokens.date);
  tokens.date_short_pretty = pretty(date, tz, now, tokens.date_short);
  tokens.date_long_pretty = pretty(date, tz, now, tokens.date_long);
  tokens.day_divider_pretty = pretty(date, tz, now, tokens.date_long);
  return String(format || "{date_short} {time}").replace(/\{(\w+)\}/g, (all, name) => tokens[name] ?? all);
}

// Inline mrkdwn: `code`, <tags>, *bold*, _italic_, ~strike~ and :emoji:.
const INLINE = new RegExp(
  [
    "`([^`\\n]+)`",
    "<([^<>\\n]+)>",
    "(?<![\\w*])\\*(?![\\s*])([^*\\n]*?[^\\s*])\\*(?![\\w*])",
    "(?<![\\w_])_(?![\\s_])([^_\\n]*?[^\\s_])_(?![\\w_])",
    "(?<![\\w~])~(?![\\s~])([^~\\n]*?[^\\s~])~(?![\\w~])",
    ":([a-z0-9_+'-]+):",
  ].join("|"),
  "g",
);

export function createRenderer(ctx) {
  const tz = () => ctx.tz() || "UTC";
  const now = () => (ctx.now ? ctx.now() : Date.now());
  const userName = (id) => {
    const user = ctx.users().find((u) => u.id === id);
    return user ? user.real_name || user.name : id;
  };
  const channelName = (id) => {
    const channel = ctx.channels().find((c) => c.id === id);
    return channel ? channel.name : id;
  };

  function link(url, label) {
    if (!SAFE_URL.test(url)) return document.createTextNode(label || url);
    return h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, label || url);
  }

  function tag(body) {
    const [target, label] = splitOnce(body, "|");
    if (target.startsWith("@")) {
      return h("span", { className: "mention" }, `@${label || userName(target.slice(1))}`);
    }
    if (target.startsWith("#")) {
      return h("span", { className: "mention channel" }, `#${label || channelName(target.slice(1))}`);
    }
    if (target.startsWith("!date^")) {
      const [, stamp, format] = target.split("^");
      const shown = formatDate(stamp, format, tz(), now());
      return h("span", { className: "date", title: label ? decodeEntities(label) : "" }, shown ?? decodeEntities(label || ""));
    }
    if (target.startsWith("!subteam^")) {
      return h("span", { className: "mention" }, decodeEntities(label || "@group"));
    }
    if (target.startsWith("!")) {
      return h("span", { className: "mention" }, `@${label ? decodeEntities(label) : target.slice(1)}`);
    }
    return link(decodeEntities(target), label ? decodeEntities(label) : null);
  }

  function inline(text) {
    const out = [];
    let last = 0;
    INLINE.lastIndex = 0;
    for (const match of text.matchAll(INLINE)) {
      if (match.index > last) out.push(decodeEntities(text.slice(last, match.index)));
      last = match.index + match[0].length;
      const [, code, tagBody, bold, italic, strike, emojiName] = match;
      if (code !== undefined) out.push(h("code", {}, decodeEntities(code)));
      else if (tagBody !== undefined) out.push(tag(tagBody));
      else if (bold !== undefined) out.push(h("b", {}, inline(bold)));
      else if (italic !== undefined) out.push(h("i", {}, inline(italic)));
      else if (strike !== undefined) out.push(h("s", {}, inline(strike)));
      else out.push(emoji(emojiName) || match[0]);
    }
    if (last < text.length) out.push(decodeEntities(text.slice(last)));
    return out;
  }

  // Lines starting with "> " become quotes; ``` fences become preformatted blocks.
  function mrkdwn(text) {
    const root = h("span", { className: "mrkdwn" });
    const pieces = String(text ?? "").split(/```/);
    const isCode = (index) => index % 2 === 1 && index < pieces.length - 1;
    pieces.forEach((piece, index) => {
      if (isCode(index)) {
        root.append(h("pre", { className: "code-block" }, decodeEntities(piece.replace(/^\n/, "").replace(/\n$/, ""))));
        return;
      }
      let source = index % 2 === 1 ? "```" + piece : piece;
      // A fence is a block of its own: the line breaks around it are not extra blank lines.
      if (isCode(index - 1)) source = source.replace(/^\n/, "");
      if (isCode(index + 1)) source = source.replace(/\n$/, "");
      if (!source) return;
      let quote = null;
      const lines = source.split("\n");
      lines.forEach((line, i) => {
        const quoted = line.match(/^(?:&gt;|>) ?(.*)$/);
        if (quoted) {
          if (!quote) {
            quote = h("blockquote", {});
            root.append(quote);
          } else {
            quote.append("\n");
          }
          append(quote, inline(quoted[1]));
          return;
        }
        quote = null;
        append(root, inline(line));
        if (i < lines.length - 1) root.append("\n");
      });
    });
    return root;
  }

  function textObject(object, className = "") {
    if (!object) return null;
    if (typeof object === "string") return h("span", { className }, object);
    if (object.type === "mrkdwn") {
      const node = mrkdwn(object.text);
      if (className) node.classList.add(...className.split(" "));
      return node;
    }
    const plain = object.emoji === false ? object.text : String(object.text ?? "").replace(/:([a-z0-9_+'-]+):/g, (all, name) => emoji(name) || all);
    return h("span", { className: `plain ${className}`.trim() }, plain);
  }

  function plain(object) {
    if (!object) return "";
    return typeof object === "string" ? object : String(object.text ?? "");
  }

  // ---- rich text

  function richStyle(node, style) {
    if (!style) return node;
    let out = node;
    if (style.code) out = h("code", {}, out);
    if (style.bold) out = h("b", {}, out);
    if (style.italic) out = h("i", {}, out);
    if (style.strike) out = h("s", {}, out);
    return out;
  }

  function richInline(element) {
    switch (element.type) {
      case "text":
        return richStyle(document.createTextNode(element.text ?? ""), element.style);
      case "link":
        return richStyle(link(element.url, element.text || element.url), element.style);
      case "user":
        return h("span", { className: "mention" }, `@${userName(element.user_id)}`);
      case "usergroup":
        return h("span", { className: "mention" }, `@${element.usergroup_id}`);
      case "channel":
        return h("span", { className: "mention channel" }, `#${channelName(element.channel_id)}`);
      case "emoji": {
        let shown = emoji(element.name);
        if (!shown && element.unicode) {
          try {
            shown = String.fromCodePoint(...element.unicode.split("-").map((c) => parseInt(c, 16)));
          } catch {
            shown = null;
          }
        }
        return document.createTextNode(shown || `:${element.name}:`);
      }
      case "date":
        return h("span", { className: "date" }, formatDate(element.timestamp, element.format, tz(), now()) ?? element.fallback ?? "");
      case "broadcast":
        return h("span", { className: "mention" }, `@${element.range}`);
      case "color":
        return h("span", { className: "color" }, h("i", { className: "swatch", style: `background:${/^#[0-9a-f]{3,8}$/i.test(element.value) ? element.value : "#ccc"}` }), element.value);
      default:
        return h("span", { className: "unsupported" }, `unsupported rich text element: ${element.type}`);
    }
  }

  function richSection(elements) {
    return (elements || []).map(richInline);
  }

  function richText(block) {
    const root = h("div", { className: "rich-text" });
    for (const element of block.elements || []) {
      switch (element.type) {
        case "rich_text_section":
          root.append(h("div", { className: "rt-section" }, richSection(element.elements)));
          break;
        case "rich_text_list": {
          const list = h(element.style === "ordered" ? "ol" : "ul", {
            className: `rt-list indent-${element.indent || 0}`,
            start: element.offset ? element.offset + 1 : undefined,
          });
          for (const item of element.elements || []) list.append(h("li", {}, richSection(item.elements)));
          root.append(list);
          break;
        }
        case "rich_text_preformatted":
          root.append(h("pre", { className: "code-block" }, richSection(element.elements)));
          break;
        case "rich_text_quote":
          root.append(h("blockquote", {}, richSection(element.elements)));
          break;
        default:
          root.append(unsupported("rich text element", element.type));
      }
    }
    return root;
  }

  // ---- elements

  function optionList(element) {
    const groups = element.option_groups
      ? element.option_groups.map((g) => ({ label: plain(g.label), options: g.options || [] }))
      : [{ label: null, options: element.options || [] }];
    return groups;
  }

  function people() {
    return ctx.users().filter((u) => !u.is_bot && !u.deleted && u.id !== "USLACKBOT");
  }

  function selectNode(element, choices, initial, multiple) {
    const select = h("select", { className: "bk-select", multiple, size: multiple ? Math.min(5, choices.length || 1) : undefined });
    if (!multiple) {
      select.append(h("option", { value: "", disabled: true, selected: initial.length === 0 }, plain(element.placeholder) || "Select an item"));
    }
    let group = null;
    for (const choice of choices) {
      if (choice.group !== undefined) {
        group = h("optgroup", { label: choice.group });
        select.append(group);
        continue;
      }
      (group || select).append(h("option", { value: choice.value, selected: initial.includes(choice.value) }, choice.label));
    }
    return select;
  }

  // Registers a stateful element in the form; `read` gives its value as the stand-in takes it.
  function stateful(form, blockId, element, read) {
    const entry = { block_id: blockId, action_id: element.action_id, read, dirty: false };
    form.entries.push(entry);
    return entry;
  }

  function fire(element, blockId, value, form, inInput) {
    // Inputs send nothing until the view is submitted, unless their block dispatches actions.
    if (inInput) return Promise.resolve();
    const go = () => ctx.act({ action_id: element.action_id, block_id: blockId, type: element.type, value }, form);
    if (element.confirm) {
      return ctx.confirm(element.confirm).then((ok) => (ok ? go() : null));
    }
    return go();
  }

  function element(el, blockId, form, { inInput = false } = {}) {
    const type = el.type;
    const touched = (entry) => () => {
      entry.dirty = true;
    };
    switch (type) {
      case "button": {
        const node = h(
          "button",
          {
            className: `bk-button ${el.style ? `bk-${el.style}` : ""}`.trim(),
            type: "button",
            title: el.accessibility_label || undefined,
            dataset: { actionId: el.action_id || "" },
          },
          textObject(el.text),
        );
        node.addEventListener("click", () => {
          if (el.url && SAFE_URL.test(el.url)) window.open(el.url, "_blank", "noopener");
          fire(el, blockId, el.value ?? null, form, false);
        });
        return node;
      }
      case "workflow_button":
        return h("button", { className: "bk-button", type: "button", disabled: true, title: "Workflows do not run in the sandbox" }, textObject(el.text));
      case "static_select":
      case "multi_static_select": {
        const multiple = type.startsWith("multi_");
        const choices = [];
        for (const group of optionList(el)) {
          if (group.label !== null) choices.push({ group: group.label });
          for (const option of group.options) choices.push({ value: option.value, label: plain(option.text) });
        }
        const initial = multiple ? (el.initial_options || []).map((o) => o.value) : el.initial_option ? [el.initial_option.value] : [];
        const node = selectNode(el, choices, initial, multiple);
        const entry = stateful(form, blockId, el, () => (multiple ? [...node.selectedOptions].map((o) => o.value) : node.value || null));
        node.addEventListener("change", () => {
          touched(entry)();
          fire(el, blockId, entry.read(), form, inInput);
        });
        return node;
      }
      case "users_select":
      case "multi_users_select":
      case "conversations_select":
      case "multi_conversations_select":
      case "channels_select":
      case "multi_channels_select": {
        const multiple = type.startsWith("multi_");
        const kind = type.replace("multi_", "").replace("_select", "");
        let choices;
        if (kind === "users") {
          choices = people().map((u) => ({ value: u.id, label: u.real_name || u.name }));
        } else {
          choices = ctx.channels()
            .filter((c) => kind === "conversations" || !c.is_im)
            .map((c) => ({ value: c.id, label: c.is_im ? `@${userName(c.user)}` : `#${c.name}` }));
        }
        const singular = { users: "initial_user", conversations: "initial_conversation", channels: "initial_channel" }[kind];
        const initial = multiple ? el[`${singular}s`] || [] : el[singular] ? [el[singular]] : [];
        const node = selectNode(el, choices, initial, multiple);
        node.classList.add(`bk-${kind}-select`);
        const entry = stateful(form, blockId, el, () => (multiple ? [...node.selectedOptions].map((o) => o.value) : node.value || null));
        node.addEventListener("change", () => {
          touched(entry)();
          fire(el, blockId, entry.read(), form, inInput);
        });
        return node;
      }
      case "external_select":
      case "multi_external_select": {
        const node = h("input", { className: "bk-text", type: "text", placeholder: `${plain(el.placeholder) || "Type a value"} (press Enter)` });
        const entry = stateful(form, blockId, el, () => (type.startsWith("multi_") ? (node.value ? [node.value] : []) : node.value || null));
        node.addEventListener("input", touched(entry));
        node.addEventListener("keydown", (event) => {
          if (event.key === "Enter") fire(el, blockId, entry.read(), form, inInput);
        });
        return node;
      }
      case "datepicker": {
        const node = h("input", { className: "bk-date", type: "date", value: el.initial_date || "" });
        // Slack shows the picked day in words; the browser's own "12/07/2026" would disagree
        // with the date token beside it, so the day is shown as slack_day makes it: noon UTC.
        const shown = h("span", { className: "bk-date-shown" });
        const show = () => {
          const [y, m, d] = (node.value || "").split("-").map(Number);
          shown.textContent = node.value
            ? formatDate(Date.UTC(y, m - 1, d, 12) / 1000, "{date_short_pretty}", tz(), now())
            : plain(el.placeholder) || "Pick a date";
        };
        show();
        const entry = stateful(form, blockId, el, () => node.value || null);
        node.addEventListener("change", () => {
          show();
          touched(entry)();
          fire(el, blockId, entry.read(), form, inInput);
        });
        return h("label", { className: "bk-picker" }, "📅 ", shown, node);
      }
      case "timepicker": {
        const node = h("input", { className: "bk-time", type: "time", value: el.initial_time || "" });
        const entry = stateful(form, blockId, el, () => node.value || null);
        node.addEventListener("change", () => {
          touched(entry)();
          fire(el, blockId, entry.read(), form, inInput);
        });
        return h("label", { className: "bk-picker" }, "🕒 ", node);
      }
      case "datetimepicker": {
        const initial = el.initial_date_time ? new Date(el.initial_date_time * 1000).toISOString().slice(0, 16) : "";
        const node = h("input", { className: "bk-datetime", type: "datetime-local", value: initial });
        const entry = stateful(form, blockId, el, () => (node.value ? Math.floor(new Date(`${node.value}Z`).getTime() / 1000) : null));
        node.addEventListener("change", () => {
          touched(entry)();
          fire(el, blockId, entry.read(), form, inInput);
        });
        return node;
      }
      case "overflow": {
        const menu = h("div", { className: "bk-overflow-menu", hidden: true });
        const button = h("button", { className: "bk-overflow", type: "button", title: "More actions", "aria-label": "More actions" }, "⋯");
        const wrap = h("span", { className: "bk-overflow-wrap" }, button, menu);
        for (const option of el.options || []) {
          menu.append(
            h("button", {
              type: "button",
              className: "bk-overflow-item",
              onclick: () => {
                menu.hidden = true;
                if (option.url && SAFE_URL.test(option.url)) window.open(option.url, "_blank", "noopener");
                fire(el, blockId, option.value, form, false);
              },
            }, textObject(option.text)),
          );
        }
        button.addEventListener("click", (event) => {
          event.stopPropagation();
          menu.hidden = !menu.hidden;
          if (!menu.hidden) {
            document.addEventListener("click", () => { menu.hidden = true; }, { once: true });
          }
        });
        return wrap;
      }
      case "checkboxes":
      case "radio_buttons": {
        const multiple = type === "checkboxes";
        const name = `${blockId}-${el.action_id}-${Math.random().toString(36).slice(2, 8)}`;
        const initial = multiple ? (el.initial_options || []).map((o) => o.value) : el.initial_option ? [el.initial_option.value] : [];
        const boxes = [];
        const node = h("div", { className: `bk-${type}` });
        const entry = stateful(form, blockId, el, () => {
          const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
          return multiple ? chosen : chosen[0] || null;
        });
        for (const option of el.options || []) {
          const box = h("input", { type: multiple ? "checkbox" : "radio", name, value: option.value, checked: initial.includes(option.value) });
          boxes.push(box);
          box.addEventListener("change", () => {
            touched(entry)();
            fire(el, blockId, entry.read(), form, inInput);
          });
          node.append(h("label", { className: "bk-option" }, box, " ", textObject(option.text), option.description ? h("span", { className: "hint" }, " ", textObject(option.description)) : null));
        }
        return node;
      }
      case "plain_text_input":
      case "email_text_input":
      case "url_text_input":
      case "number_input": {
        const inputType = { email_text_input: "email", url_text_input: "url", number_input: "number" }[type] || "text";
        const node = el.multiline
          ? h("textarea", { className: "bk-text", rows: 3, placeholder: plain(el.placeholder), maxLength: el.max_length })
          : h("input", { className: "bk-text", type: inputType, placeholder: plain(el.placeholder), maxLength: el.max_length, step: type === "number_input" && el.is_decimal_allowed ? "any" : undefined });
        node.value = el.initial_value ?? "";
        const entry = stateful(form, blockId, el, () => node.value);
        node.addEventListener("input", touched(entry));
        node.addEventListener("keydown", (event) => {
          if (event.key === "Enter" && !el.multiline) fire(el, blockId, entry.read(), form, inInput);
        });
        return node;
      }
      case "rich_text_input": {
        const node = h("textarea", { className: "bk-text", rows: 3, placeholder: plain(el.placeholder) });
        const entry = stateful(form, blockId, el, () => ({ type: "rich_text", elements: [{ type: "rich_text_section", elements: [{ type: "text", text: node.value }] }] }));
        node.addEventListener("input", touched(entry));
        return node;
      }
      case "file_input":
        return h("span", { className: "unsupported" }, "file uploads are not part of the sandbox");
      case "image":
        return image(el.image_url, el.alt_text, "bk-image-element");
      default:
        return unsupported("element", type);
    }
  }

  // Only the sandbox's own loopback images load: the page fetches nothing from outside.
  function image(url, alt, className) {
    let local = false;
    try {
      const parsed = new URL(url, window.location.href);
      local = parsed.protocol === "data:" || ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname);
    } catch {
      local = false;
    }
    if (local) return h("img", { className, src: url, alt: alt || "" });
    return h("span", { className: `${className} image-placeholder`, title: url || "" }, "🖼 ", alt || "image");
  }

  function unsupported(what, type) {
    return h("div", { className: "unsupported" }, `unsupported ${what}: ${type}`);
  }

  // ---- blocks

  function block(b, form, options) {
    const blockId = b.block_id || "";
    const node = renderBlock(b, blockId, form, options);
    node.classList.add("bk-block", `bk-${String(b.type).replace(/[^a-z_]/g, "")}`);
    node.dataset.blockId = blockId;
    node.dataset.blockType = b.type;
    return node;
  }

  function renderBlock(b, blockId, form, options) {
    switch (b.type) {
      case "header":
        return h("div", {}, textObject(b.text));
      case "divider":
        return h("hr", {});
      case "section": {
        const body = h("div", { className: "section-body" });
        if (b.text) body.append(h("div", { className: "section-text" }, textObject(b.text)));
        if (b.fields && b.fields.length) {
          body.append(h("div", { className: "section-fields" }, b.fields.map((f) => h("div", { className: "field" }, textObject(f)))));
        }
        const node = h("div", {}, body);
        if (b.accessory) {
          node.append(h("div", { className: "accessory" }, element(b.accessory, blockId, form)));
        }
        return node;
      }
      case "context":
        return h(
          "div",
          {},
          (b.elements || []).map((e) =>
            e.type === "image" ? image(e.image_url, e.alt_text, "context-image") : textObject(e, "context-text"),
          ),
        );
      case "actions":
        return h("div", {}, (b.elements || []).map((e) => element(e, blockId, form)));
      case "image":
        return h(
          "figure",
          {},
          b.title ? h("figcaption", {}, textObject(b.title)) : null,
          image(b.image_url || (b.slack_file && b.slack_file.url) || "", b.alt_text, "block-image"),
        );
      case "rich_text":
        return richText(b);
      case "markdown":
        return h("div", {}, mrkdwn(b.text));
      case "file":
        return h("div", { className: "file-card" }, "📎 ", h("span", {}, `Remote file ${b.external_id || ""}`.trim()));
      case "video":
        return h(
          "div",
          { className: "file-card" },
          "🎬 ",
          b.title_url && SAFE_URL.test(b.title_url) ? link(b.title_url, plain(b.title)) : plain(b.title),
          b.description ? h("div", { className: "hint" }, textObject(b.description)) : null,
        );
      case "input": {
        const errorSlot = h("div", { className: "input-error", hidden: true });
        form.errorSlots[blockId] = errorSlot;
        return h(
          "div",
          {},
          h("label", { className: "input-label" }, textObject(b.label), b.optional ? h("span", { className: "hint" }, " (optional)") : null),
          b.element ? element(b.element, blockId, form, { inInput: !b.dispatch_action }) : null,
          errorSlot,
          b.hint ? h("div", { className: "hint" }, textObject(b.hint)) : null,
        );
      }
      case "table":
        return h(
          "table",
          { className: "bk-table" },
          (b.rows || []).map((row) => h("tr", {}, row.map((cell) => h("td", {}, cell.type === "rich_text" ? richText(cell) : String(cell.text ?? ""))))),
        );
      default:
        return h("div", {}, `unsupported block: ${b.type}`);
    }
  }

  function blocks(list, options = {}) {
    const form = {
      entries: [],
      errorSlots: {},
      values() {
        const values = {};
        for (const entry of this.entries) {
          if (!entry.dirty || !entry.action_id) continue;
          (values[entry.block_id] ||= {})[entry.action_id] = entry.read();
        }
        return values;
      },
      allValues() {
        const values = {};
        for (const entry of this.entries) {
          if (!entry.action_id) continue;
          (values[entry.block_id] ||= {})[entry.action_id] = entry.read();
        }
        return values;
      },
      showErrors(errors) {
        for (const [blockId, slot] of Object.entries(this.errorSlots)) {
          const message = (errors || {})[blockId];
          slot.hidden = !message;
          slot.textContent = message || "";
          slot.parentElement.classList.toggle("has-error", Boolean(message));
        }
      },
    };
    const node = h("div", { className: "blocks" });
    for (const b of list || []) {
      if (!b || typeof b !== "object") continue;
      const rendered = block(b, form, options);
      if (!KNOWN.has(b.type)) rendered.classList.add("unsupported");
      node.append(rendered);
    }
    return { node, form };
  }

  // Plain text of a message for notifications and tests: what a reader sees, without markup.
  function messageText(message) {
    const node = message.blocks && message.blocks.length ? blocks(message.blocks).node : mrkdwn(message.text);
    return node.textContent;
  }

  return { blocks, mrkdwn, text: textObject, element, messageText, formatDate };
}

const KNOWN = new Set([
  "header", "divider", "section", "context", "actions", "image", "rich_text", "markdown",
  "file", "video", "input", "table",
]);

function splitOnce(text, separator) {
  const at = text.indexOf(separator);
  return at < 0 ? [text, null] : [text.slice(0, at), text.slice(at + 1)];
}
