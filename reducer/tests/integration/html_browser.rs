//! The `html` page in a real browser: headless Chromium driven over
//! WebDriver ([`webdriver`]), the network cut off. On corpus pages: every
//! thread and model on load, the root thread's rows displayed, deep links
//! that open and show their object, edge links that reach the other end,
//! search and filters, no console message and no request but the page.
//! Every corpus page (and every partial reduction of a rejected bundle)
//! with every row open and every button pressed: no script error. Trace
//! text built to run script stays text; a 200-turn page loads in seconds.
//!
//! Without `chromium` and `chromedriver` (Debian: `apt-get install chromium
//! chromium-driver`; or `CHROMIUM` and `CHROMEDRIVER` naming them) each test
//! passes after printing why it skipped (`-- --show-output` shows it);
//! under `CI` their absence is a failure. One browser runs at a time.

mod webdriver;

use std::path::Path;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::PoisonError;
use std::time::Duration;
use std::time::Instant;

use rollout_trace::model::RolloutTrace;
use rollout_trace::views;
use rollout_trace::views::ViewOptions;
use serde_json::Value;
use serde_json::json;
use webdriver::Browser;

use crate::html::hostile;
use crate::support::big_rollout;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Browsers are heavy: the tests take turns.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A browser for one test, or `None` (after saying why) when there is none.
fn browser() -> Result<Option<(MutexGuard<'static, ()>, Browser)>, String> {
    let Some((chromium, driver)) = webdriver::executables() else {
        let why = "no chromium and chromedriver found (apt-get install chromium chromium-driver, \
                   or set CHROMIUM and CHROMEDRIVER)";
        if std::env::var_os("CI").is_some() {
            return Err(format!(
                "{why}; CI must run the browser tests: .ci/run installs them"
            ));
        }
        eprintln!("skipped: {why}");
        return Ok(None);
    };
    let turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let browser = Browser::start(&chromium, &driver)?;
    Ok(Some((turn, browser)))
}

/// The page of `trace` in `folder`, and its `file://` URL.
fn write_page(
    folder: &Path,
    name: &str,
    trace: &RolloutTrace,
) -> Result<String, Box<dyn std::error::Error>> {
    let path = folder.join(format!("{name}.html"));
    rollout_trace::write_atomically_with(&path, |file| {
        views::html(trace, &ViewOptions::default(), file)
    })?;
    Ok(format!("file://{}", path.canonicalize()?.display()))
}

/// `markup::fragment` of the view: what `encodeURI` keeps, the rest %XX.
fn fragment(id: &str) -> String {
    id.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-_.!~*'();/?:@&=+$,".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

fn corpus(case: &str) -> Result<RolloutTrace, Box<dyn std::error::Error>> {
    Ok(rollout_trace::reduce_bundle(format!("../corpus/ok/{case}"))?.trace)
}

/// Runs `script` until it returns something other than null or false.
fn wait_for(browser: &Browser, script: &str, arguments: &[Value]) -> Result<Value, String> {
    let started = Instant::now();
    loop {
        let value = browser.run(script, arguments)?;
        if !value.is_null() && value != false {
            return Ok(value);
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!("waited 10 s for: {script}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Nothing on the console, no request but the page, no link out of it.
fn check_clean(browser: &Browser, url: &str) -> Result<(), String> {
    let console = browser.console()?;
    if !console.is_empty() {
        return Err(format!("console messages: {console:#?}"));
    }
    let page = url.split('#').next().unwrap_or(url);
    for (document, request) in browser.requests()? {
        if document.starts_with("file:") && request.split('#').next() != Some(page) {
            return Err(format!("{document} requested {request}"));
        }
    }
    let outside = browser.run(
        "return [...document.querySelectorAll('[src],[srcset],[href],[action],[poster],[data],link,img,iframe,object,embed')]
           .map(e => e.getAttribute('href') ?? e.outerHTML.slice(0, 80))
           .filter(v => !String(v).startsWith('#'));",
        &[],
    )?;
    if outside != json!([]) {
        return Err(format!("elements that point out of the page: {outside}"));
    }
    Ok(())
}

/// Each thread-tree line, by its link's fragment, without nested lines.
const TREE: &str = "Object.fromEntries([...document.querySelectorAll('nav.tree li')].map(li => [
    li.querySelector(':scope > a').hash,
    [...li.childNodes].filter(n => n.nodeName !== 'UL').map(n => n.textContent).join('')]))";

/// Every thread has a line in the tree with its path, nickname, status and
/// every model it used.
fn check_tree(trace: &RolloutTrace, tree: &Value) -> Result<(), String> {
    let lines = tree.as_object().map_or(0, serde_json::Map::len);
    if lines != trace.threads.len() {
        return Err(format!("{lines} lines in the thread tree: {tree}"));
    }
    for thread in trace.threads.values() {
        let line = tree[format!("#{}", fragment(&thread.thread_id))]
            .as_str()
            .ok_or_else(|| format!("{} not in the tree", thread.thread_id))?;
        let mut facts = vec![thread.agent_path.as_str(), thread.execution.status.as_str()];
        facts.extend(thread.nickname.as_deref());
        facts.extend(thread.default_model.as_deref());
        let calls = trace.inference_calls.values();
        let thread_calls = calls.filter(|call| call.thread_id == thread.thread_id);
        facts.extend(thread_calls.map(|call| call.model.as_str()));
        if let Some(fact) = facts.into_iter().find(|fact| !line.contains(fact)) {
            return Err(format!("{fact} not in the tree: {line}"));
        }
    }
    Ok(())
}

/// What a deep link to `id` left: whether its element is open, shows its
/// body with the id, is in view and highlighted.
const OPENED: &str = "
  const id = arguments[0];
  const target = document.getElementById(id);
  if (!target) return {missing: true};
  const row = target.matches('section') ? target.querySelector(':scope > details.row') : target;
  const body = row && row.querySelector(':scope > .body .idline code');
  const rect = target.getBoundingClientRect();
  return {open: !!row && row.open, body: body ? body.textContent : null,
          inView: rect.top >= -1 && rect.top < innerHeight, highlighted: target.classList.contains('hl')};";

/// Waits (a fragment change is handled after the navigation returns) until
/// the deep link to `id` shows its object.
fn check_opened(browser: &Browser, id: &str) -> Result<(), String> {
    let expected = json!({"open": true, "body": id, "inView": true, "highlighted": true});
    let started = Instant::now();
    loop {
        let state = browser.run(OPENED, &[json!(id)])?;
        if state == expected {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(5) {
            return Err(format!("#{id}: {state}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn corpus_pages_show_every_thread_and_open_every_deep_link() -> TestResult {
    let Some((_turn, browser)) = browser()? else {
        return Ok(());
    };
    let folder = tempfile::tempdir()?;
    let cases = [
        "0490_example_code_mode_turn",
        "0491_example_multi_agent",
        "0517_plaintext_collaboration_envelopes_are_not_matched",
        "0040_s40_compaction_boundary_repeats_prefix_and_reuses_replacement_items",
        "0018_s18_cancelled_inference_reduces_partial_response_items",
        "0508_writer_generated_session_all_options",
    ];
    for case in cases {
        let trace = corpus(case)?;
        let url = write_page(folder.path(), case, &trace)?;
        browser.open(&url)?;
        check_clean(&browser, &url).map_err(|error| format!("{case}: {error}"))?;

        // On load: the header, every thread in the tree with its model, the
        // root thread's turns, entries, edges and conversation displayed.
        let shown = browser.run(
            &"const root = [...document.querySelectorAll('section.thread')].find(s => s.dataset.thread === arguments[0]);
             const hidden = root ? [...root.querySelectorAll('details.turn, .g > details.row, details.conv > details.row')]
               .filter(e => e.getClientRects().length === 0).map(e => e.id || e.dataset.id) : ['no root section'];
             return {header: document.querySelector('header.top').textContent, tree: TREE,
                     hidden, search: !document.querySelector('.tools').hidden};"
                .replace("TREE", TREE),
            &[json!(trace.root_thread_id)],
        )?;
        assert_eq!(
            shown["hidden"],
            json!([]),
            "{case}: root rows not displayed"
        );
        assert_eq!(shown["search"], true, "{case}: search not shown");
        let header = shown["header"].as_str().unwrap_or("");
        assert!(
            header.contains(trace.status.as_str()) && header.contains("tokens"),
            "{case}: {header}"
        );
        check_tree(&trace, &shown["tree"]).map_err(|error| format!("{case}: {error}"))?;

        // Deep links: the first of each kind from a fresh load, the others
        // by moving the fragment (hashchange).
        let kinds: [Vec<&String>; 8] = [
            trace.threads.keys().collect(),
            trace.codex_turns.keys().collect(),
            trace.inference_calls.keys().collect(),
            trace.tool_calls.keys().collect(),
            trace.code_cells.keys().collect(),
            trace.compactions.keys().collect(),
            trace.interaction_edges.keys().collect(),
            trace.conversation_items.keys().take(8).collect(),
        ];
        for ids in kinds {
            for (index, id) in ids.into_iter().enumerate() {
                if index == 0 {
                    browser.open("about:blank")?;
                }
                browser.open(&format!("{url}#{}", fragment(id)))?;
                check_opened(&browser, id).map_err(|error| format!("{case}: {error}"))?;
            }
        }

        // "copy link" copies the page's URL with the object's fragment, or
        // shows it selected where the clipboard is refused.
        let last = trace
            .conversation_items
            .keys()
            .next_back()
            .ok_or("no items")?;
        browser.open(&format!("{url}#{}", fragment(last)))?;
        check_opened(&browser, last)?;
        let copy = browser.find(".hl > .body button.copy")?;
        browser.click(&copy)?;
        let copied = wait_for(
            &browser,
            "const line = document.querySelector('.hl > .body .idline');
             const input = line.querySelector('input.url');
             if (input) return input.value;
             return line.querySelector('button.copy').textContent === 'copied' ? 'copied' : null;",
            &[],
        )?;
        let expected = format!("{url}#{}", fragment(last));
        assert!(
            copied == "copied" || copied == json!(expected),
            "{case}: {copied}"
        );

        // Each edge row links to its other end.
        let links = browser.find_all("details[data-k=edge] > summary a")?;
        for (index, link) in links.iter().enumerate() {
            let target = browser.run(
                "const a = document.querySelectorAll('details[data-k=edge] > summary a')[arguments[0]];
                 for (let e = a.parentElement; e; e = e.parentElement) if (e.tagName === 'DETAILS') e.open = true;
                 a.scrollIntoView({block: 'center'});
                 return decodeURIComponent(a.hash.slice(1));",
                &[json!(index)],
            )?;
            let target = target.as_str().ok_or("no link target")?;
            browser.click(link)?;
            check_opened(&browser, target)
                .map_err(|error| format!("{case}: edge link: {error}"))?;
        }
        check_clean(&browser, &url).map_err(|error| format!("{case}: {error}"))?;
    }
    Ok(())
}

#[test]
fn search_finds_text_and_filters_narrow_the_page() -> TestResult {
    let Some((_turn, browser)) = browser()? else {
        return Ok(());
    };
    let folder = tempfile::tempdir()?;

    // Search reaches terminal output and opens what it found.
    let trace = corpus("0490_example_code_mode_turn")?;
    let url = write_page(folder.path(), "code_mode", &trace)?;
    browser.open(&url)?;
    let query = browser.find(".tools .q")?;
    browser.type_text(&query, "XARGS wc")?;
    let hits = wait_for(
        &browser,
        "const hits = [...document.querySelectorAll('.results a.hit')];
         return hits.length ? hits.map(a => [decodeURIComponent(a.hash.slice(1)), a.textContent]) : null;",
        &[],
    )?;
    let tool = trace
        .tool_calls
        .values()
        .find(|tool| {
            tool.terminal_operation_id
                .as_ref()
                .and_then(|id| trace.terminal_operations.get(id))
                .is_some_and(|operation| format!("{:?}", operation.request).contains("xargs wc"))
        })
        .ok_or("no tool ran xargs wc")?;
    let hits = hits.as_array().ok_or("no hits")?;
    let position = hits
        .iter()
        .position(|hit| hit[0] == json!(tool.tool_call_id))
        .ok_or_else(|| format!("the tool call is not found: {hits:?}"))?;
    for hit in hits {
        assert!(
            hit[1]
                .as_str()
                .unwrap_or("")
                .to_lowercase()
                .contains("xargs wc"),
            "{hits:?}"
        );
    }
    browser.click(&browser.find_all(".results a.hit")?[position])?;
    check_opened(&browser, &tool.tool_call_id)?;
    let body = browser.run(
        "return document.getElementById(arguments[0]).querySelector('.body').textContent;",
        &[json!(tool.tool_call_id)],
    )?;
    assert!(
        body.as_str()
            .unwrap_or("")
            .contains("rg --files -g '*.rs' | xargs wc -l"),
        "{body}"
    );
    check_clean(&browser, &url)?;

    // Filters: a thread, a tool, failures.
    let trace = corpus("0491_example_multi_agent")?;
    let url = write_page(folder.path(), "multi_agent", &trace)?;
    browser.open(&url)?;
    let choose = "const select = document.querySelector(arguments[0]); select.value = arguments[1];
                  select.dispatchEvent(new Event('change')); return null;";
    let shown = "return {
        threads: [...document.querySelectorAll('section.thread')].filter(s => !s.hidden).map(s => s.dataset.thread),
        rows: [...document.querySelectorAll('.g')].filter(g => g.getClientRects().length)
          .map(g => [...g.querySelectorAll('details[data-k]')].map(r => [r.dataset.tool || r.dataset.k, r.hasAttribute('data-bad')]))};";
    let child = trace
        .threads
        .values()
        .find(|thread| thread.thread_id != trace.root_thread_id)
        .ok_or("one thread")?;
    browser.run(choose, &[json!("select.thread"), json!(child.thread_id)])?;
    let state = browser.run(shown, &[])?;
    assert_eq!(state["threads"], json!([child.thread_id]), "{state}");
    browser.type_text(&browser.find(".tools .q")?, "gpt-5")?;
    let hits = wait_for(
        &browser,
        "const hits = [...document.querySelectorAll('.results a.hit')]; return hits.length ? hits.map(a => a.textContent) : null;",
        &[],
    )?;
    for hit in hits.as_array().into_iter().flatten() {
        assert!(
            hit.as_str().unwrap_or("").contains(&child.agent_path),
            "{hits}"
        );
    }
    browser.run(choose, &[json!("select.thread"), json!("")])?;
    browser.run(choose, &[json!("select.tool"), json!("spawn_agent")])?;
    let state = browser.run(shown, &[])?;
    let groups = state["rows"].as_array().ok_or("no rows")?;
    assert_eq!(groups.len(), 2, "{state}");
    for group in groups {
        assert_eq!(group[0][0], "spawn_agent", "{state}");
    }
    browser.run(choose, &[json!("select.tool"), json!("")])?;
    check_clean(&browser, &url)?;

    // A command that exited 1 is a failure to the filter.
    let trace = corpus("0508_writer_generated_session_all_options")?;
    let url = write_page(folder.path(), "all_options", &trace)?;
    browser.open(&url)?;
    browser.click(&browser.find(".tools .bad")?)?;
    let state = browser.run(shown, &[])?;
    let groups = state["rows"].as_array().ok_or("no rows")?;
    assert!(!groups.is_empty(), "{state}");
    for group in groups {
        assert!(
            group
                .as_array()
                .into_iter()
                .flatten()
                .any(|row| row[1] == true),
            "{state}"
        );
    }
    browser.click(&browser.find(".tools .bad")?)?;
    let all = browser.run(shown, &[])?;
    assert!(
        all["rows"].as_array().map_or(0, Vec::len) > groups.len(),
        "{all}"
    );
    check_clean(&browser, &url)?;
    Ok(())
}

#[test]
fn trace_text_built_to_run_script_stays_text() -> TestResult {
    let Some((_turn, browser)) = browser()? else {
        return Ok(());
    };
    const SUFFIX: &str = "</script><script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\"><b class=pwned>bold</b><!--";
    let trace = hostile(&corpus("0491_example_multi_agent")?, SUFFIX)?;
    let folder = tempfile::tempdir()?;
    let url = write_page(folder.path(), "hostile", &trace)?;
    browser.open(&url)?;
    let not_run = "return {pwned: window.pwned ?? null,
        elements: document.querySelectorAll('img, .pwned, iframe, script:not([src])').length,
        shown: document.body.textContent.includes('<img src=x onerror=\"window.pwned=2\"><b class=pwned>bold</b>')};";
    assert_eq!(
        browser.run(not_run, &[])?,
        json!({"pwned": null, "elements": 1, "shown": true})
    );
    // Open a message whose text carries the suffix (item ids are numbers).
    let item = trace
        .conversation_items
        .values()
        .find(|item| item.thread_id == trace.root_thread_id)
        .ok_or("no item")?;
    browser.open(&format!("{url}#{}", fragment(&item.item_id)))?;
    check_opened(&browser, &item.item_id)?;
    let body = browser.run(
        "return document.getElementById(arguments[0]).querySelector('.body').textContent;",
        &[json!(item.item_id)],
    )?;
    assert!(body.as_str().unwrap_or("").contains(SUFFIX), "{body}");
    // Search results show it as text too.
    browser.type_text(&browser.find(".tools .q")?, "window.pwned=1")?;
    let hits = wait_for(
        &browser,
        "return document.querySelectorAll('.results a.hit').length || null;",
        &[],
    )?;
    assert!(hits.as_u64().unwrap_or(0) > 10, "{hits}");
    // Every kind of body, opened.
    browser.run("for (const row of document.querySelectorAll('details[data-k]')) row.open = true; return null;", &[])?;
    wait_for(
        &browser,
        "return [...document.querySelectorAll('details[data-k]')].every(row => row.querySelector(':scope > .body')) || null;",
        &[],
    )?;
    assert_eq!(
        browser.run(not_run, &[])?,
        json!({"pwned": null, "elements": 1, "shown": true})
    );
    check_clean(&browser, &url)?;
    Ok(())
}

#[test]
fn a_200_turn_page_loads_in_seconds() -> TestResult {
    let Some((_turn, browser)) = browser()? else {
        return Ok(());
    };
    let trace = big_rollout::rollout(200);
    let state = rollout_trace::state_json(&trace).len();
    let folder = tempfile::tempdir()?;
    let url = write_page(folder.path(), "200_turns", &trace)?;
    let page = std::fs::metadata(folder.path().join("200_turns.html"))?.len();
    let started = Instant::now();
    browser.open(&url)?;
    let wall = started.elapsed();
    let load = browser.run(
        "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd;",
        &[],
    )?;
    let load_ms = load.as_f64().ok_or("no load time")?;
    eprintln!(
        "200 turns: state.json {:.1} MB, page {:.1} MB, load event after {load_ms:.0} ms ({:.2} s with the driver)",
        state as f64 / 1e6,
        page as f64 / 1e6,
        wall.as_secs_f64()
    );
    assert!(
        (page as usize) < state,
        "page {page} bytes, state.json {state} bytes"
    );
    assert!(load_ms < 10_000.0, "loaded in {load_ms} ms");
    let turns = browser.run("return [...document.querySelectorAll('details.turn')].filter(t => t.getClientRects().length).length;", &[])?;
    assert_eq!(turns, json!(200));
    let last = trace.threads[big_rollout::ROOT]
        .conversation_item_ids
        .last()
        .ok_or("no items")?;
    browser.open(&format!("{url}#{}", fragment(last)))?;
    check_opened(&browser, last)?;
    let started = Instant::now();
    browser.type_text(&browser.find(".tools .q")?, "Done with turn 199")?;
    wait_for(
        &browser,
        "return document.querySelectorAll('.results a.hit').length === 1 || null;",
        &[],
    )?;
    eprintln!(
        "200 turns: first search answered in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    check_clean(&browser, &url)?;
    Ok(())
}

/// Every corpus state, and the partial reductions of the rejected bundles
/// (running rollouts, dangling ids): traces this page was not written for.
fn every_trace() -> Result<Vec<(String, RolloutTrace)>, Box<dyn std::error::Error>> {
    let mut traces = crate::html::corpus_states()?;
    let mut rejected: Vec<_> = std::fs::read_dir("../corpus/err")?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    rejected.sort();
    let partial = rollout_trace::ReduceOptions {
        partial: true,
        ..rollout_trace::ReduceOptions::default()
    };
    for bundle in rejected {
        if let Ok(reduction) = rollout_trace::reduce_bundle_with(&bundle, &partial) {
            let name = bundle.file_name().map(|n| n.to_string_lossy().into_owned());
            traces.push((format!("err/{}", name.unwrap_or_default()), reduction.trace));
        }
    }
    Ok(traces)
}

#[test]
fn every_corpus_page_loads_and_opens_every_row_without_a_script_error() -> TestResult {
    let Some((_turn, browser)) = browser()? else {
        return Ok(());
    };
    let folder = tempfile::tempdir()?;
    let mut failures = Vec::new();
    for (name, trace) in every_trace()? {
        let url = write_page(folder.path(), &name.replace('/', "_"), &trace)?;
        browser.open(&url)?;
        // Bodies are built on the toggle events, after the script returns:
        // wait for them, then press every button in them (show all, JSON,
        // list all) but copy link.
        let outcome = browser
            .run_async(
                &"const done = arguments[arguments.length - 1];
                 const rows = [...document.querySelectorAll('details[data-k]')];
                 for (const row of rows) row.open = true;
                 const started = Date.now();
                 (function check() {
                   if (!rows.every(row => row.querySelector(':scope > .body'))) {
                     if (Date.now() - started > 10000) return done('bodies missing after 10 s');
                     return setTimeout(check, 5);
                   }
                   for (const button of document.querySelectorAll('.body button')) {
                     if (button.textContent !== 'copy link') button.click();
                   }
                   done(TREE);
                 })();"
                    .replace("TREE", TREE),
                &[],
            )
            .and_then(|tree| check_tree(&trace, &tree))
            .and_then(|()| check_clean(&browser, &url));
        if let Err(error) = outcome {
            failures.push(format!("{name}: {error}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}
