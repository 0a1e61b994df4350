//! Just enough WebDriver to test the page in a real browser: `chromedriver`
//! (Debian's `chromium-driver`) on a local port, spoken to over HTTP/1.1 with
//! the standard library and serde_json, and headless Chromium behind it with
//! the network cut off (`--host-resolver-rules`).
//!
//! `chromedriver` and the browser run while the [`Browser`] lives; dropping
//! it ends the session and kills the driver. Commands fail with the driver's
//! own error text.

use std::io::Read;
use std::io::Write;
use std::net::TcpListener;
use std::net::TcpStream;
use std::path::Path;
use std::path::PathBuf;
use std::process::Child;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

use serde_json::Value;
use serde_json::json;

/// The key WebDriver names a found element by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The Chromium and chromedriver executables: `$CHROMIUM` and
/// `$CHROMEDRIVER` when set, else Debian's paths, else the `PATH`.
pub fn executables() -> Option<(PathBuf, PathBuf)> {
    let find = |variable: &str, names: &[&str]| -> Option<PathBuf> {
        if let Some(path) = std::env::var_os(variable) {
            return Some(PathBuf::from(path));
        }
        let folders: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect())
            .unwrap_or_default();
        names.iter().find_map(|name| {
            let name = Path::new(name);
            if name.is_absolute() {
                return name.is_file().then(|| name.to_path_buf());
            }
            folders
                .iter()
                .map(|folder| folder.join(name))
                .find(|path| path.is_file())
        })
    };
    let chromium = find(
        "CHROMIUM",
        &[
            "/usr/lib/chromium/chromium",
            "chromium",
            "chromium-browser",
            "google-chrome",
        ],
    )?;
    let driver = find("CHROMEDRIVER", &["chromedriver"])?;
    Some((chromium, driver))
}

pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub fn start(chromium: &Path, driver: &Path) -> Result<Browser, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| format!("find a free port: {error}"))?
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("start {}: {error}", driver.display()))?;
        let profile = tempfile::Builder::new()
            .prefix("rollout-trace-chromium-")
            .tempdir()
            .map_err(|error| format!("create a profile folder: {error}"))?;
        let mut browser = Browser {
            driver: child,
            port,
            session: String::new(),
            _profile: profile,
        };
        let started = Instant::now();
        while browser
            .get("/status")
            .map(|status| status["ready"] != true)
            .unwrap_or(true)
        {
            if started.elapsed() > Duration::from_secs(30) {
                return Err("chromedriver did not get ready in 30 s".to_string());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            // Every host name fails to resolve: a request out would show
            // in the network log and fail loudly on the console.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            &format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
        }}});
        let session = browser.post("/session", &capabilities)?;
        browser.session = session["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session id in {session}"))?
            .to_string();
        Ok(browser)
    }

    /// Navigates and waits for the load event.
    pub fn open(&self, url: &str) -> Result<(), String> {
        self.command("/url", &json!({ "url": url })).map(drop)
    }

    /// Runs `script` as a function body with `arguments`; its return value.
    pub fn run(&self, script: &str, arguments: &[Value]) -> Result<Value, String> {
        self.command(
            "/execute/sync",
            &json!({ "script": script, "args": arguments }),
        )
    }

    /// Runs `script` as a function body whose last argument is a callback;
    /// what it passes to the callback.
    pub fn run_async(&self, script: &str, arguments: &[Value]) -> Result<Value, String> {
        self.command(
            "/execute/async",
            &json!({ "script": script, "args": arguments }),
        )
    }

    /// The first element matching a CSS selector.
    pub fn find(&self, selector: &str) -> Result<String, String> {
        let found = self.command(
            "/element",
            &json!({"using": "css selector", "value": selector}),
        )?;
        found[ELEMENT]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no element id in {found}"))
    }

    /// Every element matching a CSS selector, in document order.
    pub fn find_all(&self, selector: &str) -> Result<Vec<String>, String> {
        let found = self.command(
            "/elements",
            &json!({"using": "css selector", "value": selector}),
        )?;
        found
            .as_array()
            .into_iter()
            .flatten()
            .map(|element| {
                element[ELEMENT]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("no element id in {element}"))
            })
            .collect()
    }

    pub fn click(&self, element: &str) -> Result<(), String> {
        self.command(&format!("/element/{element}/click"), &json!({}))
            .map(drop)
    }

    pub fn type_text(&self, element: &str, text: &str) -> Result<(), String> {
        self.command(
            &format!("/element/{element}/value"),
            &json!({ "text": text }),
        )
        .map(drop)
    }

    /// The console and network messages since the last call.
    pub fn console(&self) -> Result<Vec<Value>, String> {
        let log = self.command("/se/log", &json!({"type": "browser"}))?;
        Ok(log.as_array().cloned().unwrap_or_default())
    }

    /// Every request a page of this document attempted since the last
    /// call: the document's URL and the request's.
    pub fn requests(&self) -> Result<Vec<(String, String)>, String> {
        let log = self.command("/se/log", &json!({"type": "performance"}))?;
        let mut requests = Vec::new();
        for entry in log.as_array().into_iter().flatten() {
            let message: Value = serde_json::from_str(entry["message"].as_str().unwrap_or("{}"))
                .map_err(|error| error.to_string())?;
            let message = &message["message"];
            if message["method"] == "Network.requestWillBeSent" {
                let params = &message["params"];
                requests.push((
                    params["documentURL"].as_str().unwrap_or("").to_string(),
                    params["request"]["url"].as_str().unwrap_or("").to_string(),
                ));
            }
        }
        Ok(requests)
    }

    fn command(&self, path: &str, body: &Value) -> Result<Value, String> {
        self.post(&format!("/session/{}{path}", self.session), body)
    }

    fn get(&self, path: &str) -> Result<Value, String> {
        self.http("GET", path, None)
    }

    fn post(&self, path: &str, body: &Value) -> Result<Value, String> {
        self.http("POST", path, Some(body))
    }

    /// One request on its own connection: the response's `value`, or the
    /// driver's error. The driver keeps connections open, so the body is
    /// read by its length.
    fn http(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let failed = |error: std::io::Error| format!("{method} {path}: {error}");
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(failed)?;
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .map_err(failed)?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        );
        stream.write_all(request.as_bytes()).map_err(failed)?;
        let mut response = Vec::new();
        let mut buffer = [0u8; 64 * 1024];
        let (status, content) = loop {
            let read = stream.read(&mut buffer).map_err(failed)?;
            response.extend_from_slice(&buffer[..read]);
            if let Some(end) = response.windows(4).position(|window| window == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
                let content = &response[end + 4..];
                let status = head.split(' ').nth(1).unwrap_or("").to_string();
                let length = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .and_then(|length| length.trim().parse::<usize>().ok());
                let chunked = length.is_none() && head.contains("transfer-encoding: chunked");
                let complete = match length {
                    Some(length) => content.len() >= length,
                    None if chunked => content.ends_with(b"0\r\n\r\n"),
                    None => read == 0,
                };
                if complete {
                    let content = String::from_utf8_lossy(content);
                    let content = if chunked {
                        dechunk(&content)
                    } else {
                        content.into_owned()
                    };
                    break (status, content);
                }
            }
            if read == 0 {
                return Err(format!(
                    "{method} {path}: the connection closed mid-response"
                ));
            }
        };
        let value: Value = serde_json::from_str(&content)
            .map_err(|error| format!("{method} {path}: {error} in {content}"))?;
        let value = value["value"].clone();
        if status != "200" {
            return Err(format!(
                "{method} {path}: {status} {}: {}",
                value["error"].as_str().unwrap_or(""),
                value["message"].as_str().unwrap_or("")
            ));
        }
        Ok(value)
    }
}

/// The body of a chunked HTTP response.
fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || tail.len() < size {
            break;
        }
        body.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    body
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.http("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
