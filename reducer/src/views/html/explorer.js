// The rollout explorer's behaviour (rollout_trace::views::html): a row's
// body is built from the page data when the row opens, then deep links,
// search, filters and copyable links.
//
// Rules: trace data reaches the page only as text (textContent, text nodes,
// the value and href properties), never through a markup parser (no
// property or method that takes HTML); nothing here requests anything from
// anywhere. The unit tests of html/mod.rs hold the script to both.
(function () {
  'use strict';

  const CUT_CHARS = 2000; // of a text body, before "show all"
  const CUT_LINES = 40;
  const LIST_ITEMS = 50; // items of a list, before "list all"
  const RESULTS = 100; // search results, before "more"

  const doc = document;
  doc.documentElement.classList.add('js');
  const dataElement = doc.querySelector('script.trace-data');
  const data = JSON.parse(dataElement.textContent);
  dataElement.remove();

  const MAPS = {
    thread: 'threads', turn: 'codex_turns', item: 'conversation_items',
    inference: 'inference_calls', cell: 'code_cells', tool: 'tool_calls',
    compaction: 'compactions', edge: 'interaction_edges',
  };
  const KIND_NAMES = {
    thread: 'thread', turn: 'turn', item: 'conversation item', inference: 'inference call',
    cell: 'code cell', tool: 'tool call', compaction: 'compaction', edge: 'agent edge',
  };
  const STATUS_CLASS = { completed: 'ok', failed: 'bad', cancelled: 'warn', aborted: 'warn', running: 'run' };
  const STATUS_SYMBOL = { completed: '✓', failed: '✗', cancelled: '⊘', aborted: '⊘', running: '●' };

  const has = (object, key) => object != null && Object.prototype.hasOwnProperty.call(object, key);
  const at = (map, id) => (has(data[map], id) ? data[map][id] : undefined);
  const get = (kind, id) => at(MAPS[kind], id);
  const list = (value) => (Array.isArray(value) ? value : []);
  const entries = (map) => Object.entries(data[map] || {});
  // The same encoding as markup::fragment in Rust.
  const frag = (id) => encodeURI(String(id)).replace(/#/g, '%23');
  const plural = (n, noun) => n + ' ' + noun + (n === 1 ? '' : 's');
  const flat = (text) => String(text).replace(/\s+/g, ' ');
  const isBad = (window) => !!window && ['failed', 'cancelled', 'aborted'].includes(window.status);

  // Lookups the model keeps implicit: tools by model-visible call, cells by item.
  const toolByCall = new Map();
  for (const [id, tool] of entries('tool_calls')) {
    const key = tool.thread_id + '\n' + tool.model_visible_call_id;
    if (tool.model_visible_call_id != null && !toolByCall.has(key)) toolByCall.set(key, id);
  }
  const cellByItem = new Map();
  for (const [id, cell] of entries('code_cells')) {
    for (const item of [...list(cell.output_item_ids), cell.source_item_id]) {
      if (!cellByItem.has(item)) cellByItem.set(item, id);
    }
  }

  // ---- small builders ------------------------------------------------------

  function el(tag, className, text) {
    const element = doc.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined && text !== null) element.textContent = String(text);
    return element;
  }

  function link(id, text) {
    const a = el('a', null, text === undefined || text === null ? id : text);
    a.href = '#' + frag(id);
    return a;
  }

  function button(text, onClick, className) {
    const b = el('button', className || 'more', text);
    b.type = 'button';
    b.addEventListener('click', onClick);
    return b;
  }

  // A link when the object exists, else its id marked as missing.
  function ref(kind, id, text) {
    if (id === null || id === undefined) return null;
    if (get(kind, id) !== undefined) return link(id, text);
    const span = el('span', 'missing');
    span.append(el('code', null, id), ' (not in the trace)');
    return span;
  }

  // A turn by the name its row has ("turn 3").
  function turnRef(id) {
    const row = id === null || id === undefined ? null : doc.getElementById(id);
    const name = row && row.dataset.k === 'turn' ? row.querySelector(':scope > summary b') : null;
    return ref('turn', id, name ? name.textContent : undefined);
  }

  function threadRef(id) {
    const thread = get('thread', id);
    return thread ? link(id, thread.agent_path) : ref('thread', id);
  }

  function duration(ms) {
    if (ms < 0) return '-' + duration(-ms);
    if (ms < 1000) return ms + 'ms';
    if (ms < 60000) return Math.floor(ms / 1000) + '.' + Math.floor((ms % 1000) / 100) + 's';
    const s = Math.floor(ms / 1000);
    if (s < 3600) return Math.floor(s / 60) + 'm' + String(s % 60).padStart(2, '0') + 's';
    return Math.floor(s / 3600) + 'h' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + 'm';
  }

  // Wall time, and the offset from the rollout's start.
  function when(ms) {
    if (typeof ms !== 'number') return null;
    const date = new Date(ms);
    const text = isNaN(date.getTime()) ? String(ms) : date.toISOString().replace('T', ' ').replace('Z', ' UTC');
    return text + ' (+' + duration(ms - data.started_at_unix_ms) + ')';
  }

  function statusNode(status) {
    return el('span', 's ' + (STATUS_CLASS[status] || 'run'), (STATUS_SYMBOL[status] || '●') + ' ' + status);
  }

  function payload(id) {
    if (id === null || id === undefined) return null;
    const known = at('raw_payloads', id);
    return known ? known.path + ' (' + id + ')' : id;
  }

  // A definition list of the facts that have a value.
  function facts(parent, rows) {
    const dl = el('dl', 'facts');
    for (const [key, value] of rows) {
      const parts = Array.isArray(value) ? value.filter((part) => part !== null && part !== undefined) : null;
      if (value === null || value === undefined || value === '' || (parts && !parts.length)) continue;
      const dd = el('dd');
      if (parts) dd.append(...parts);
      else if (value instanceof Node) dd.append(value);
      else dd.textContent = String(value);
      dl.append(el('dt', null, key), dd);
    }
    if (dl.childElementCount) parent.append(dl);
  }

  function windowFacts(window) {
    if (!window) return [];
    const ended = typeof window.ended_at_unix_ms === 'number';
    return [
      ['status', statusNode(window.status)],
      ['started', when(window.started_at_unix_ms)],
      ['ended', ended ? when(window.ended_at_unix_ms) : 'not ended'],
      ['duration', ended ? duration(window.ended_at_unix_ms - window.started_at_unix_ms) : null],
      ['events', 'seq ' + window.started_seq + (window.ended_seq == null ? '' : '–' + window.ended_seq)],
    ];
  }

  // Text in a <pre>, cut after CUT_LINES lines or CUT_CHARS characters with
  // a button that shows the rest.
  function block(text, className) {
    const whole = String(text === null || text === undefined ? '' : text);
    const box = el('div', 'block');
    const pre = el('pre', className || null);
    box.append(pre);
    let end = Math.min(whole.length, CUT_CHARS);
    for (let i = 0, lines = 0; i < end; i++) {
      if (whole.charCodeAt(i) === 10 && ++lines === CUT_LINES) end = i;
    }
    if (end >= whole.length) {
      pre.textContent = whole;
      return box;
    }
    pre.textContent = whole.slice(0, end) + ' …';
    const rest = whole.slice(end);
    const lines = rest.split('\n').length - 1;
    const more = button('show all: ' + plural(rest.length, 'more character') + (lines ? ', ' + plural(lines, 'more line') : ''), () => {
      pre.textContent = whole;
      more.remove();
    });
    box.append(more);
    return box;
  }

  function heading(parent, text) {
    parent.append(el('h4', null, text));
  }

  // ---- conversation items --------------------------------------------------

  const KIND_WORDS = {
    function_call: 'call', custom_tool_call: 'call', function_call_output: 'output',
    custom_tool_call_output: 'output', compaction_marker: 'compaction marker',
  };

  function toolOfItem(item) {
    return item ? toolByCall.get(item.thread_id + '\n' + item.call_id) : undefined;
  }

  function itemNumber(id) {
    return String(id).startsWith('conversation_item:') ? '#' + String(id).slice(18) : String(id);
  }

  function itemTitle(item) {
    if (!item) return 'not in the trace';
    const tool = toolOfItem(item);
    const name = tool ? data.tool_names[tool] : cellByItem.has(item.item_id) ? 'exec' : null;
    const kind = KIND_WORDS[item.kind] ? KIND_WORDS[item.kind] + (name && item.kind !== 'compaction_marker' ? ' ' + name : '') : item.kind;
    const routing = item.agent_message ? item.agent_message.author + ' → ' + item.agent_message.recipient : null;
    return [item.role, item.channel, kind === 'message' ? null : kind, routing].filter(Boolean).join(' · ');
  }

  function partTexts(item) {
    return list(item && item.body && item.body.parts).map((part) => {
      if (part.type === 'code') return part.source;
      if (part.type === 'json') return part.summary;
      if (part.type === 'text' || part.type === 'summary') return part.text;
      return '';
    });
  }

  function preview(item) {
    const text = partTexts(item).map(flat).find((part) => part.trim());
    if (!text) return '';
    return text.length > 160 ? text.slice(0, 159) + '…' : text;
  }

  function parts(parent, item) {
    const all = list(item.body && item.body.parts);
    if (!all.length) parent.append(el('p', 'note', '(empty)'));
    for (const part of all) {
      if (part.type === 'text') parent.append(block(part.text));
      else if (part.type === 'summary') parent.append(el('p', 'label', 'summary'), block(part.text));
      else if (part.type === 'code') parent.append(el('p', 'label', part.language), block(part.source, 'code'));
      else if (part.type === 'json') json(parent, part);
      else if (part.type === 'encoded') {
        const label = el('p', 'label', part.label + ' · ' + plural(String(part.value).length, 'character') + ' ');
        label.append(button('show', () => label.replaceWith(el('p', 'label', part.label), block(part.value, 'encoded'))));
        parent.append(label);
      } else if (part.type === 'payload_ref') parent.append(el('p', 'label', part.label + ': ' + payload(part.raw_payload_id)));
      else parent.append(block(JSON.stringify(part, null, 2)));
    }
  }

  // JSON text, indented when whole; the reducer cuts it at 240 bytes.
  function json(parent, part) {
    const summary = String(part.summary);
    let shown = summary;
    try {
      shown = JSON.stringify(JSON.parse(summary), null, 2);
    } catch (error) {
      if (summary.endsWith('...')) {
        parent.append(el('p', 'note', 'cut by the reducer; the whole JSON is in ' + payload(part.raw_payload_id)));
      }
    }
    parent.append(block(shown, 'json'));
  }

  // An item with its whole content.
  function card(id) {
    const item = get('item', id);
    const box = el('div', 'card');
    const head = el('p', 'head');
    head.append(link(id, itemNumber(id)), ' ', el('b', null, itemTitle(item)));
    box.append(head);
    if (item) parts(box, item);
    return box;
  }

  function cards(parent, title, ids) {
    if (!ids.length) return;
    heading(parent, title);
    for (const id of ids) parent.append(card(id));
  }

  // Items one line each, the first LIST_ITEMS and a button for the rest.
  function itemList(ids) {
    const box = el('div');
    const ul = el('ul', 'items');
    box.append(ul);
    const add = (from, to) => {
      for (let i = from; i < to; i++) {
        const item = get('item', ids[i]);
        const li = el('li');
        li.append(link(ids[i], itemNumber(ids[i])), ' ', itemTitle(item), ' ', el('span', 'p', preview(item)));
        ul.append(li);
      }
    };
    const first = Math.min(ids.length, LIST_ITEMS);
    add(0, first);
    if (first < ids.length) {
      const more = button('list all ' + ids.length, () => {
        more.remove();
        add(first, ids.length);
      });
      box.append(more);
    }
    return box;
  }

  function links(kind, ids, label) {
    return ids.map((id, i) => [i ? ', ' : '', ref(kind, id, label ? label(id) : id)]).flat();
  }

  // ---- request lists (stored as differences, see html/data.rs) -------------

  const requestCache = new WeakMap();

  function requestIds(call) {
    const chain = [];
    const seen = new Set();
    let current = call;
    while (current && !requestCache.has(current) && !seen.has(current)) {
      seen.add(current);
      chain.push(current);
      const request = current.request_items || {};
      current = request.base == null ? null : get('inference', request.base);
    }
    let ids = current && requestCache.has(current) ? requestCache.get(current) : [];
    while (chain.length) {
      const next = chain.pop();
      const request = next.request_items || {};
      ids = (request.base == null ? [] : ids.slice(0, request.keep)).concat(list(request.then));
      requestCache.set(next, ids);
    }
    return requestCache.get(call) || [];
  }

  // The object as state.json has it.
  function stateObject(kind, object) {
    if (kind !== 'inference') return object;
    const copy = {};
    for (const key of Object.keys(object)) {
      if (key === 'request_items') copy.request_item_ids = requestIds(object);
      else copy[key] = object[key];
    }
    return copy;
  }

  // ---- bodies, one renderer per kind ----------------------------------------

  function anchor(end) {
    if (!end) return null;
    if (end.type === 'conversation_item') {
      const item = get('item', end.item_id);
      return [ref('item', end.item_id, itemNumber(end.item_id)), item ? ' in ' : null, item ? threadRef(item.thread_id) : null];
    }
    if (end.type === 'tool_call') {
      const tool = get('tool', end.tool_call_id);
      return [ref('tool', end.tool_call_id, tool ? data.tool_names[end.tool_call_id] : undefined), tool ? ' in ' : null, tool ? threadRef(tool.thread_id) : null];
    }
    return [threadRef(end.thread_id)];
  }

  function producers(list_) {
    return list_.map((producer, i) => {
      const sep = i ? ', ' : '';
      if (producer.type === 'inference') return [sep, ref('inference', producer.inference_call_id, 'inference ' + producer.inference_call_id)];
      if (producer.type === 'tool') return [sep, ref('tool', producer.tool_call_id, 'tool ' + (data.tool_names[producer.tool_call_id] || producer.tool_call_id))];
      if (producer.type === 'code_cell') return [sep, ref('cell', producer.code_cell_id)];
      if (producer.type === 'compaction') return [sep, ref('compaction', producer.compaction_id)];
      if (producer.type === 'interaction_edge') return [sep, ref('edge', producer.edge_id)];
      return [sep, producer.type];
    }).flat();
  }

  function shownCommand(request) {
    const command = list(request.command);
    if (command.length === 3 && /sh$/.test(command[0]) && (command[1] === '-lc' || command[1] === '-c')) return command[2];
    return request.display_command;
  }

  function terminal(body, operation) {
    const request = operation.request || {};
    const result = operation.result;
    heading(body, 'terminal · ' + operation.kind);
    facts(body, [
      ['operation', operation.operation_id],
      ['terminal', operation.terminal_id],
      ['cwd', request.cwd],
      ['exit code', result ? (result.exit_code === null ? 'none' : result.exit_code) : 'no result'],
      ['output tokens', result ? result.original_token_count : null],
      ['payloads', list(operation.raw_payload_ids).map(payload).join(', ')],
    ]);
    if (request.type === 'exec_command') body.append(el('p', 'label', 'command'), block(shownCommand(request), 'cmd'));
    if (request.type === 'write_stdin') body.append(el('p', 'label', 'stdin'), block(request.stdin, 'cmd'));
    if (!result) return;
    if (result.stdout) body.append(el('p', 'label', 'stdout'), block(result.stdout));
    if (result.stderr) body.append(el('p', 'label', 'stderr'), block(result.stderr, 'stderr'));
    if (result.formatted_output != null && result.formatted_output !== result.stdout) {
      body.append(el('p', 'label', 'formatted output (what the model was given)'), block(result.formatted_output));
    }
  }

  const RENDER = {
    thread(body, thread) {
      const origin = thread.origin || {};
      facts(body, [
        ['agent path', thread.agent_path],
        ['nickname', thread.nickname],
        ['model', thread.default_model],
        ['origin', origin.type === 'spawned' ? ['spawned by ', threadRef(origin.parent_thread_id)] : origin.type],
        ['agent role', origin.agent_role],
        ['task', origin.task_name],
        ['spawn edge', ref('edge', origin.spawn_edge_id)],
        ...windowFacts(thread.execution),
        ['conversation', plural(list(thread.conversation_item_ids).length, 'item')],
      ]);
    },

    // The row says the rest; a turn's body is only its id line.
    turn(body) {
      body.classList.add('slim');
    },

    inference(body, call) {
      const usage = call.usage;
      facts(body, [
        ['model', call.model],
        ['provider', call.provider_name],
        ['response id', call.response_id],
        ['upstream request id', call.upstream_request_id],
        ['turn', turnRef(call.codex_turn_id)],
        ...windowFacts(call.execution),
        ['tokens in', usage ? usage.input_tokens + ' (' + usage.cached_input_tokens + ' cached, ' + usage.cache_write_input_tokens + ' cache write)' : null],
        ['tokens out', usage ? usage.output_tokens + ' (' + usage.reasoning_output_tokens + ' reasoning)' : null],
        ['request payload', payload(call.raw_request_payload_id)],
        ['response payload', payload(call.raw_response_payload_id)],
      ]);
      const ids = requestIds(call);
      const request = call.request_items || {};
      heading(body, 'request · ' + plural(ids.length, 'item'));
      if (request.base != null && get('inference', request.base)) {
        const note = el('p', 'note');
        note.append(plural(request.keep, 'item') + ' as in the request of ', link(request.base, 'the previous call'), ', then ' + plural(list(request.then).length, 'new item') + ':');
        const all = button('list the whole request', () => all.replaceWith(itemList(ids)));
        body.append(note, itemList(list(request.then)), all);
      } else {
        body.append(itemList(ids));
      }
      heading(body, 'response · ' + plural(list(call.response_item_ids).length, 'item'));
      for (const id of list(call.response_item_ids)) body.append(card(id));
      const started = list(call.tool_call_ids_started_by_response);
      if (started.length) facts(body, [['tool calls started', links('tool', started, (id) => data.tool_names[id] || id)]]);
    },

    tool(body, tool) {
      const kind = tool.kind || {};
      const requester = tool.requester || {};
      const summary = tool.summary || {};
      facts(body, [
        ['name', data.tool_names[tool.tool_call_id]],
        ['kind', [kind.type, kind.server, kind.tool, kind.name].filter((part) => part != null).join(' ')],
        ['requested by', requester.type === 'code_cell' ? ref('cell', requester.code_cell_id) : requester.type],
        ['model-visible call id', tool.model_visible_call_id],
        ['MCP call id', tool.mcp_call_id],
        ['code-mode runtime tool id', tool.code_mode_runtime_tool_id],
        ['turn', turnRef(tool.started_by_codex_turn_id)],
        ...windowFacts(tool.execution),
        ['target agent', summary.target_agent_path],
        ['task', summary.task_name],
        ['message', summary.message_preview],
        ['timeout', summary.timeout_ms == null ? null : summary.timeout_ms + 'ms'],
        ['label', summary.label],
        ['input preview', summary.input_preview],
        ['output preview', summary.output_preview],
        ['invocation payload', payload(tool.raw_invocation_payload_id)],
        ['result payload', payload(tool.raw_result_payload_id)],
        ['runtime payloads', list(tool.raw_runtime_payload_ids).map(payload).join(', ')],
      ]);
      cards(body, 'call', list(tool.model_visible_call_item_ids));
      const operation = at('terminal_operations', tool.terminal_operation_id);
      if (operation) terminal(body, operation);
      cards(body, 'output', list(tool.model_visible_output_item_ids));
    },

    cell(body, cell) {
      facts(body, [
        ['runtime cell id', cell.runtime_cell_id],
        ['runtime status', cell.runtime_status],
        ['model-visible call id', cell.model_visible_call_id],
        ['turn', turnRef(cell.codex_turn_id)],
        ...windowFacts(cell.execution),
        ['first response', when(cell.initial_response_at_unix_ms)],
        ['yielded', when(cell.yielded_at_unix_ms)],
        ['source item', ref('item', cell.source_item_id, itemNumber(cell.source_item_id))],
        ['tools it ran', links('tool', list(cell.nested_tool_call_ids), (id) => data.tool_names[id] || id)],
        ['waits', links('tool', list(cell.wait_tool_call_ids), (id) => data.tool_names[id] || id)],
      ]);
      heading(body, 'source');
      body.append(block(cell.source_js, 'code'));
      cards(body, 'output', list(cell.output_item_ids));
    },

    compaction(body, compaction) {
      facts(body, [
        ['installed', when(compaction.installed_at_unix_ms)],
        ['turn', turnRef(compaction.codex_turn_id)],
        ['marker', ref('item', compaction.marker_item_id, itemNumber(compaction.marker_item_id))],
      ]);
      for (const id of list(compaction.request_ids)) {
        const request = at('compaction_requests', id);
        heading(body, 'request ' + id);
        if (!request) continue;
        facts(body, [
          ['model', request.model],
          ['provider', request.provider_name],
          ...windowFacts(request.execution),
          ['request payload', payload(request.raw_request_payload_id)],
          ['response payload', payload(request.raw_response_payload_id)],
        ]);
      }
      heading(body, 'input · ' + plural(list(compaction.input_item_ids).length, 'item'));
      body.append(itemList(list(compaction.input_item_ids)));
      cards(body, 'replacement', list(compaction.replacement_item_ids));
    },

    edge(body, edge) {
      facts(body, [
        ['kind', edge.kind],
        ['from', anchor(edge.source)],
        ['to', anchor(edge.target)],
        ['started', when(edge.started_at_unix_ms)],
        ['ended', typeof edge.ended_at_unix_ms === 'number' ? when(edge.ended_at_unix_ms) : 'not ended'],
        ['carried payloads', list(edge.carried_raw_payload_ids).map(payload).join(', ')],
      ]);
      cards(body, 'carried', list(edge.carried_item_ids));
    },

    item(body, item) {
      const tool = toolOfItem(item);
      const cell = cellByItem.get(item.item_id);
      facts(body, [
        ['role', item.role],
        ['channel', item.channel],
        ['kind', item.kind],
        ['agent message', item.agent_message ? item.agent_message.author + ' → ' + item.agent_message.recipient : null],
        ['call id', item.call_id],
        ['tool call', tool ? link(tool, data.tool_names[tool]) : null],
        ['code cell', cell ? link(cell) : null],
        ['thread', threadRef(item.thread_id)],
        ['turn', turnRef(item.codex_turn_id)],
        ['first seen', when(item.first_seen_at_unix_ms)],
        ['produced by', list(item.produced_by).length ? producers(list(item.produced_by)) : null],
      ]);
      parts(body, item);
    },
  };

  // ---- rows: bodies on opening ---------------------------------------------

  const filled = new WeakSet();

  function idLine(kind, id, object) {
    const line = el('p', 'idline');
    line.append(el('span', 'kind', KIND_NAMES[kind] || kind), ' ', el('code', null, id), ' ', link(id, 'link'), ' ');
    const copy = button('copy link', () => copyLink(id, copy), 'copy');
    line.append(copy);
    if (object !== undefined) {
      const shown = button('JSON', () => {
        shown.replaceWith(block(JSON.stringify(stateObject(kind, object), null, 2), 'json'));
      }, 'copy');
      line.append(' ', shown);
    }
    return line;
  }

  function copyLink(id, copy) {
    const url = location.href.split('#')[0] + '#' + frag(id);
    const fallback = () => {
      const input = el('input', 'url');
      input.value = url;
      input.readOnly = true;
      copy.replaceWith(input);
      input.select();
    };
    if (!navigator.clipboard || !navigator.clipboard.writeText) return fallback();
    navigator.clipboard.writeText(url).then(() => {
      copy.textContent = 'copied';
      setTimeout(() => { copy.textContent = 'copy link'; }, 1500);
    }, fallback);
  }

  function fill(row) {
    const kind = row.dataset.k;
    if (!kind || filled.has(row)) return;
    filled.add(row);
    const id = row.id || row.dataset.id || '';
    const object = get(kind, id);
    const body = el('div', 'body');
    body.append(idLine(kind, id, object));
    if (object === undefined) {
      body.append(el('p', 'warn', 'not in the trace'));
    } else {
      try {
        RENDER[kind](body, object);
      } catch (error) {
        body.append(el('p', 'warn', 'cannot show this object: ' + error));
        console.error(error);
      }
    }
    const summary = row.querySelector(':scope > summary');
    if (summary) summary.after(body);
    else row.prepend(body);
  }

  doc.addEventListener('toggle', (event) => {
    const details = event.target;
    if (details.open && details.dataset && details.dataset.k) fill(details);
  }, true);
  for (const row of doc.querySelectorAll('details[open][data-k]')) fill(row);

  // ---- deep links ------------------------------------------------------------

  let highlighted = null;

  function targetOf(hash) {
    let id = hash.replace(/^#/, '');
    try {
      id = decodeURIComponent(id);
    } catch (error) {
      // Not percent-encoding: the id as typed.
    }
    if (!id) return null;
    const element = doc.getElementById(id);
    if (element) return element;
    const operation = at('terminal_operations', id);
    if (operation) return doc.getElementById(operation.tool_call_id);
    const request = at('compaction_requests', id);
    if (request) return doc.getElementById(request.compaction_id);
    return null;
  }

  function reveal(target) {
    for (let e = target; e; e = e.parentElement) {
      if (e.hidden) {
        clearFilters();
        break;
      }
    }
    for (let e = target; e; e = e.parentElement) {
      if (e.tagName === 'DETAILS') {
        fill(e);
        e.open = true;
      }
    }
    if (target.matches('section.thread')) {
      for (const details of target.querySelectorAll(':scope > details')) {
        fill(details);
        details.open = true;
      }
    }
    if (highlighted) highlighted.classList.remove('hl');
    highlighted = target;
    target.classList.add('hl');
    target.scrollIntoView({ block: 'start' });
  }

  function followHash() {
    const target = targetOf(location.hash);
    if (target) reveal(target);
  }

  window.addEventListener('hashchange', followHash);
  doc.addEventListener('click', (event) => {
    const a = event.target.closest ? event.target.closest('a[href^="#"]') : null;
    // A link to where the page already is: no hashchange, so reveal again.
    if (a && a.getAttribute('href') === location.hash) {
      event.preventDefault();
      followHash();
    }
  });

  // ---- search and filters ------------------------------------------------------

  const tools = doc.querySelector('.tools');
  const results = doc.querySelector('.results');
  const query = tools.querySelector('.q');
  const onlyBad = tools.querySelector('.bad');
  const threadFilter = tools.querySelector('select.thread');
  const toolFilter = tools.querySelector('select.tool');
  const count = tools.querySelector('.count');
  tools.hidden = false;

  let index = null;

  // Every object with the thread, tool and failure the filters read, and
  // all its text.
  function buildIndex() {
    index = [];
    const put = (kind, id, thread, tool, bad, label, texts) => {
      const text = texts.flat().filter((t) => t !== null && t !== undefined && t !== '').join('\n');
      index.push({ kind, id, thread, tool, bad, label, text });
    };
    for (const [id, t] of entries('threads')) {
      put('thread', id, id, null, isBad(t.execution), t.agent_path, [id, t.agent_path, t.nickname, t.default_model, t.origin && t.origin.task_name]);
    }
    for (const [id, t] of entries('codex_turns')) put('turn', id, t.thread_id, null, isBad(t.execution), 'turn', [id]);
    for (const [id, c] of entries('inference_calls')) {
      put('inference', id, c.thread_id, null, isBad(c.execution), 'inference ' + c.model, [id, c.model, c.provider_name, c.response_id, c.upstream_request_id]);
    }
    for (const [id, c] of entries('code_cells')) {
      const bad = isBad(c.execution) || c.runtime_status === 'failed' || c.runtime_status === 'terminated';
      put('cell', id, c.thread_id, 'exec', bad, 'exec cell', [id, c.runtime_cell_id, c.source_js]);
    }
    for (const [id, t] of entries('tool_calls')) {
      const operation = at('terminal_operations', t.terminal_operation_id);
      const request = operation ? operation.request || {} : {};
      const result = operation ? operation.result : null;
      const summary = t.summary || {};
      const bad = isBad(t.execution) || (!!result && result.exit_code !== null && result.exit_code !== 0);
      put('tool', id, t.thread_id, data.tool_names[id], bad, data.tool_names[id], [
        id, data.tool_names[id], t.model_visible_call_id, t.mcp_call_id,
        summary.target_agent_path, summary.task_name, summary.message_preview, summary.label, summary.input_preview, summary.output_preview,
        list(request.command).join(' '), request.cwd, request.stdin,
        result ? [result.stdout, result.stderr, result.formatted_output] : [],
      ]);
    }
    for (const [id, c] of entries('compactions')) put('compaction', id, c.thread_id, 'compaction', false, 'compaction', [id]);
    for (const [id, e] of entries('interaction_edges')) {
      const from = e.source || {};
      const item = from.type === 'conversation_item' ? get('item', from.item_id) : null;
      const tool = from.type === 'tool_call' ? get('tool', from.tool_call_id) : null;
      const thread = item ? item.thread_id : tool ? tool.thread_id : from.thread_id;
      put('edge', id, thread, null, false, e.kind, [id, e.kind]);
    }
    for (const [id, i] of entries('conversation_items')) {
      const tool = toolOfItem(i);
      const name = tool ? data.tool_names[tool] : cellByItem.has(id) ? 'exec' : null;
      const bad = tool ? isBad(get('tool', tool).execution) : false;
      put('item', id, i.thread_id, name, bad, itemNumber(id) + ' ' + itemTitle(i), [id, i.call_id, partTexts(i)]);
    }
  }

  function filters() {
    return { thread: threadFilter.value, tool: toolFilter.value, bad: onlyBad.checked };
  }

  function passes(entry, filter) {
    return (!filter.thread || entry.thread === filter.thread) && (!filter.tool || entry.tool === filter.tool) && (!filter.bad || entry.bad);
  }

  function threadPath(id) {
    const thread = get('thread', id);
    return thread ? thread.agent_path : '';
  }

  function hitRow(hit) {
    const { entry } = hit;
    const a = link(entry.id, '');
    a.className = 'hit';
    a.append(el('span', 'kind', KIND_NAMES[entry.kind]), ' ', el('span', 'path', threadPath(entry.thread)), ' ', el('b', null, entry.label), ' ');
    const text = entry.text;
    const start = Math.max(0, hit.at - 60);
    const end = Math.min(text.length, hit.at + hit.length + 100);
    const snippet = el('span', 'p');
    snippet.append(
      (start > 0 ? '…' : '') + flat(text.slice(start, hit.at)),
      el('mark', null, text.slice(hit.at, hit.at + hit.length)),
      flat(text.slice(hit.at + hit.length, end)) + (end < text.length ? '…' : ''),
    );
    a.append(snippet);
    return a;
  }

  function showHits(hits, from) {
    const to = Math.min(hits.length, from + RESULTS);
    for (let i = from; i < to; i++) results.append(hitRow(hits[i]));
    if (to < hits.length) {
      const more = button('show ' + Math.min(RESULTS, hits.length - to) + ' more', () => {
        more.remove();
        showHits(hits, to);
      });
      results.append(more);
    }
  }

  function search() {
    const text = query.value.trim();
    results.textContent = '';
    if (!text) {
      results.hidden = true;
      count.textContent = '';
      return;
    }
    if (!index) buildIndex();
    const pattern = new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
    const filter = filters();
    const hits = [];
    for (const entry of index) {
      if (!passes(entry, filter)) continue;
      const match = pattern.exec(entry.text);
      if (match) hits.push({ entry, at: match.index, length: match[0].length });
    }
    count.textContent = plural(hits.length, 'object') + ' found';
    results.hidden = false;
    if (!hits.length) results.append(el('p', 'note', 'nothing matches'));
    showHits(hits, 0);
  }

  function groupMatches(group, filter) {
    for (const row of group.querySelectorAll('details[data-k]')) {
      if ((!filter.tool || row.dataset.tool === filter.tool) && (!filter.bad || row.hasAttribute('data-bad'))) return true;
    }
    return false;
  }

  // Threads other than the chosen one are hidden; with a tool or "failed
  // only", so are the entries that do not match and the turns left empty.
  function applyFilters() {
    const filter = filters();
    for (const section of doc.querySelectorAll('section.thread')) {
      section.hidden = !!filter.thread && section.dataset.thread !== filter.thread;
    }
    const active = !!filter.tool || filter.bad;
    for (const group of doc.querySelectorAll('.g')) group.hidden = active && !groupMatches(group, filter);
    for (const turn of doc.querySelectorAll('details.turn')) {
      const shown = !active || !!turn.querySelector(':scope > .g:not([hidden])') || (filter.bad && !filter.tool && turn.hasAttribute('data-bad'));
      turn.hidden = !shown;
      if (active && shown) {
        turn.open = true;
        const turns = turn.closest('details.turns');
        if (turns) turns.open = true;
      }
    }
    for (const loose of doc.querySelectorAll('.loose')) loose.hidden = active && !loose.querySelector('.g:not([hidden])');
    search();
  }

  function clearFilters() {
    threadFilter.value = '';
    toolFilter.value = '';
    onlyBad.checked = false;
    applyFilters();
  }

  let typing = 0;
  query.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(search, 150);
  });
  for (const control of [onlyBad, threadFilter, toolFilter]) control.addEventListener('change', applyFilters);
  doc.addEventListener('keydown', (event) => {
    if (event.key === '/' && doc.activeElement !== query && !/^(INPUT|SELECT|TEXTAREA)$/.test(doc.activeElement.tagName)) {
      event.preventDefault();
      query.focus();
    }
  });

  followHash();
})();
