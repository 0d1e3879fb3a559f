//! The baozi shop across processes (or hosts): cooks and customers find each
//! other only through a Redis server. The steamer is a
//! [`threadlet::cluster::Queue`] with `maxsize` 5; a customer takes a baozi
//! under a lease and acknowledges it with `task_done` once eaten. One customer
//! faints holding a baozi (its process exits without `task_done`): after the
//! visibility timeout that baozi goes back into the steamer and someone else
//! eats it. At closing time the shop checks that every baozi was eaten exactly
//! once.
//!
//! ```text
//! # one command: starts a private redis-server, 2 cooks and 3 customers as processes
//! cargo run --example baozi_cluster --features cluster
//!
//! # or by hand, on any hosts that reach one server:
//! cargo run --example baozi_cluster --features cluster -- --role cook --cook 0 --url redis://HOST/
//! cargo run --example baozi_cluster --features cluster -- --role customer --url redis://HOST/
//! # when the cooks are done:
//! cargo run --example baozi_cluster --features cluster -- --role check --url redis://HOST/
//! ```
//!
//! Delivery is at least once: a customer who faints *after* writing in the
//! ledger but *before* `task_done` would count a baozi twice. This shop's
//! customers faint before eating, so the ledger must show each baozi once.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use threadlet::cluster::{GetError, Options, Queue};

const COOKS: [&str; 4] = ["Lily", "Alex", "Mei", "Jun"];
const STEAMER: &str = "baozi-steamer";
const LEDGER: &str = "baozi-ledger";
const MAXSIZE: usize = 5;

/// One baozi: its number in the day and who made it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Baozi {
    id: u32,
    cook: String,
}

struct Args {
    role: Option<String>,
    url: String,
    cook: usize,
    per_cook: u32,
    cooks: usize,
    customers: usize,
    name: String,
    faint: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        role: None,
        url: "redis://127.0.0.1:6379/".into(),
        cook: 0,
        per_cook: 20,
        cooks: 2,
        customers: 3,
        name: "customer".into(),
        faint: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--role" => a.role = Some(value()?),
            "--url" => a.url = value()?,
            "--cook" => a.cook = value()?.parse().map_err(|e| format!("--cook: {e}"))?,
            "--count" => a.per_cook = value()?.parse().map_err(|e| format!("--count: {e}"))?,
            "--cooks" => a.cooks = value()?.parse().map_err(|e| format!("--cooks: {e}"))?,
            "--customers" => {
                a.customers = value()?.parse().map_err(|e| format!("--customers: {e}"))?;
            }
            "--name" => a.name = value()?,
            "--faint" => a.faint = true,
            _ => {
                return Err(format!(
                    "unknown flag {flag}\nusage: baozi_cluster [--role cook|customer|check] \
                     [--url URL] [--cook N] [--count N per cook] [--cooks N] \
                     [--customers N] [--name NAME] [--faint]"
                ));
            }
        }
    }
    Ok(a)
}

fn options() -> Options {
    Options::default().visibility_timeout(Duration::from_secs(2))
}

async fn steamer(url: &str) -> Result<Queue<Baozi>, String> {
    Queue::connect_with(url, STEAMER, MAXSIZE, options())
        .await
        .map_err(|e| e.to_string())
}

async fn ledger(url: &str) -> Result<Queue<(u32, String)>, String> {
    Queue::connect(url, LEDGER, 0)
        .await
        .map_err(|e| e.to_string())
}

async fn cook(a: &Args) -> Result<(), String> {
    let q = steamer(&a.url).await?;
    let name = COOKS[a.cook % COOKS.len()];
    for n in 0..a.per_cook {
        let id = a.cook as u32 * 10_000 + n;
        q.put(Baozi {
            id,
            cook: name.into(),
        })
        .await
        .map_err(|e| e.to_string())?;
        println!("{name} made baozi {id}");
    }
    Ok(())
}

async fn customer(a: &Args) -> Result<(), String> {
    let q = steamer(&a.url).await?;
    let eaten = ledger(&a.url).await?;
    loop {
        let baozi = match q.get().await {
            Ok(b) => b,
            Err(GetError::ShutDown) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        };
        if a.faint {
            println!(
                "[{}] got baozi {} from {} and fainted",
                a.name, baozi.id, baozi.cook
            );
            std::process::exit(0); // no task_done: the lease will expire
        }
        eaten
            .put((baozi.id, a.name.clone()))
            .await
            .map_err(|e| e.to_string())?;
        baozi.task_done().await.map_err(|e| e.to_string())?;
        let again = if baozi.deliveries() > 1 {
            " (it came back)"
        } else {
            ""
        };
        println!(
            "[{}] got baozi {} from {} and ate it{again}",
            a.name, baozi.id, baozi.cook
        );
    }
}

/// Closing time (after the cooks finished): wait until every baozi was
/// acknowledged, close the steamer, and check the ledger.
async fn check(url: &str, expected: &[u32]) -> Result<(), String> {
    let q = steamer(url).await?;
    q.join().await.map_err(|e| e.to_string())?;
    let redelivered = q.stats().await.map_err(|e| e.to_string())?.redelivered;
    q.shutdown().await.map_err(|e| e.to_string())?;
    let eaten = ledger(url).await?;
    let mut ids = Vec::new();
    while let Ok(entry) = eaten.get_nowait().await {
        entry.task_done().await.map_err(|e| e.to_string())?;
        ids.push(entry.0);
    }
    ids.sort_unstable();
    let mut want = expected.to_vec();
    want.sort_unstable();
    println!(
        "end of day: {} baozi made, {} eaten, {} came back after a customer fainted",
        want.len(),
        ids.len(),
        redelivered
    );
    if ids == want {
        println!("every baozi was eaten exactly once");
        Ok(())
    } else {
        Err(format!("the ledger does not match: {ids:?} vs {want:?}"))
    }
}

fn expected(cooks: usize, per_cook: u32) -> Vec<u32> {
    (0..cooks as u32)
        .flat_map(|c| (0..per_cook).map(move |n| c * 10_000 + n))
        .collect()
}

/// A private redis-server on a free port in a temp dir, killed on drop.
struct Server {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Server {
    fn start() -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let dir = std::env::temp_dir().join(format!("baozi-cluster-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--dir"])
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start redis-server ({e}); install it (apt-get install redis-server)"
                )
            })?;
        let server = Self { child, dir, port };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                let mut buf = [0u8; 16];
                if s.write_all(b"PING\r\n").is_ok() && s.read(&mut buf).is_ok_and(|n| n > 0) {
                    return Ok(server);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("redis-server did not answer".into())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn spawn_role(url: &str, extra: &[&str]) -> Result<Child, String> {
    Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args(["--url", url])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())
}

/// Copies a child's lines to our stdout as they come.
fn relay(child: &mut Child) -> std::thread::JoinHandle<()> {
    let out = child.stdout.take().expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("{line}");
        }
    })
}

async fn one_command(a: &Args) -> Result<(), String> {
    let server = Server::start()?;
    let url = format!("redis://127.0.0.1:{}/", server.port);
    println!("shop open at {url}");
    // Create the steamer before anyone connects.
    steamer(&url).await?;
    let count = a.per_cook.to_string();
    let mut children = Vec::new();
    for c in 0..a.cooks {
        let cook = c.to_string();
        children.push(spawn_role(
            &url,
            &["--role", "cook", "--cook", &cook, "--count", &count],
        )?);
    }
    let mut customers = vec![spawn_role(
        &url,
        &["--role", "customer", "--name", "Fainting Bob", "--faint"],
    )?];
    for name in ["Lilei", "Ahi", "Hanmei", "Bo"].iter().take(a.customers) {
        customers.push(spawn_role(&url, &["--role", "customer", "--name", name])?);
    }
    let relays: Vec<_> = children
        .iter_mut()
        .chain(customers.iter_mut())
        .map(relay)
        .collect();
    // Closing time comes once the cooks are done.
    for c in &mut children {
        let status = c.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("a cook failed: {status}"));
        }
    }
    check(&url, &expected(a.cooks, a.per_cook)).await?;
    for c in &mut customers {
        let status = c.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("a shop process failed: {status}"));
        }
    }
    for r in relays {
        let _ = r.join();
    }
    Ok(())
}

fn main() -> ExitCode {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let result = rt.block_on(async {
        match a.role.as_deref() {
            None => one_command(&a).await,
            Some("cook") => cook(&a).await,
            Some("customer") => customer(&a).await,
            Some("check") => check(&a.url, &expected(a.cooks, a.per_cook)).await,
            Some(other) => Err(format!("unknown role {other}")),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("baozi_cluster: {e}");
            ExitCode::FAILURE
        }
    }
}
