//! The process transport lets in only the process tree: another user is
//! refused on accept, a same-user process without the listener's secret (or
//! with a wrong one) is refused before any request frame is read, and hostile
//! input from an authenticated peer costs that peer its connection and nothing
//! else. Finally the attack of the security report (another user taking a
//! baozi from the cross-process shop) gets nothing and the shop finishes.
//!
//! The cross-user tests re-execute this test binary as uid/gid 65534
//! (`nobody`); they need root and print a `SKIP:` line otherwise.
#![cfg(all(feature = "process", target_os = "linux"))]

use std::collections::HashSet;
use std::io::{Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use threadlet::error::{PipeError, ProcessQueueError};
use threadlet::process::{self, Connection, Pipe, Queue};

// ===== the wire protocol, as a peer sees it =====

const MAGIC: &[u8; 8] = b"thrdlt/1";

/// A mirror of `process::Queue`'s request (same variant order).
#[derive(Serialize)]
#[allow(dead_code)]
enum Request {
    Put { item: Vec<u8>, wait: Wait },
    PutNoReply { item: Vec<u8> },
    Get { wait: Wait },
    Ack,
    Qsize,
}

#[derive(Serialize)]
#[allow(dead_code)]
enum Wait {
    No,
    Forever,
    Millis(u64),
}

#[derive(Deserialize, Debug)]
enum Response {
    Done,
    Full,
    Item(Vec<u8>),
    Empty,
    Size(#[allow(dead_code)] u64),
}

/// A mirror of `Pipe`'s request.
#[derive(Serialize)]
#[allow(dead_code)]
enum PipeRequest {
    Attach { end: u8, ticket: Option<u64> },
    Send { msg: Vec<u8> },
    Recv { millis: Option<u64> },
}

fn frame<T: Serialize>(value: &T) -> Vec<u8> {
    let body = postcard::to_stdvec(value).unwrap();
    let mut out = u32::try_from(body.len()).unwrap().to_le_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

fn read_response(stream: &mut UnixStream) -> Response {
    let mut len = [0; 4];
    stream.read_exact(&mut len).unwrap();
    let mut body = vec![0; u32::from_le_bytes(len) as usize];
    stream.read_exact(&mut body).unwrap();
    postcard::from_bytes(&body).unwrap()
}

/// The socket name and the secret inside a handle's encoding.
fn address_of<H: Serialize>(handle: &H) -> (String, [u8; 32]) {
    let bytes = postcard::to_stdvec(handle).unwrap();
    let ((name, secret), _rest): ((String, [u8; 32]), &[u8]) =
        postcard::take_from_bytes(&bytes).unwrap();
    (name, secret)
}

/// A handle for `name` that carries `secret` instead of the real one.
fn forged_queue(name: &str, secret: [u8; 32]) -> Queue<String> {
    let bytes = postcard::to_stdvec(&((name, secret), 0u64)).unwrap();
    postcard::from_bytes(&bytes).unwrap()
}

fn connect(name: &str) -> UnixStream {
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let stream = UnixStream::connect_addr(&addr).unwrap();
    // Generous bounds: every wait below ends long before unless it is a bug.
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
}

fn tag(secret: &[u8; 32], label: &[u8], server: &[u8], client: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap();
    mac.update(label);
    mac.update(server);
    mac.update(client);
    mac.finalize().into_bytes().to_vec()
}

/// Connects and authenticates as a legitimate peer would.
fn authenticated(name: &str, secret: &[u8; 32]) -> UnixStream {
    let mut stream = connect(name);
    let mut challenge = [0; 40];
    stream.read_exact(&mut challenge).unwrap();
    assert_eq!(&challenge[..8], MAGIC);
    let server_nonce = &challenge[8..];
    let client_nonce = [7u8; 32];
    let mut answer = client_nonce.to_vec();
    answer.extend(tag(
        secret,
        b"threadlet client",
        server_nonce,
        &client_nonce,
    ));
    stream.write_all(&answer).unwrap();
    let mut proof = [0; 32];
    stream.read_exact(&mut proof).unwrap();
    assert_eq!(
        proof.to_vec(),
        tag(secret, b"threadlet server", server_nonce, &client_nonce),
        "the owner proved the secret"
    );
    stream
}

/// Whether the owner hung up on `stream` (end of file or reset), waiting
/// up to the stream's read timeout.
fn hung_up(stream: &mut UnixStream) -> bool {
    let mut byte = [0; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

// ===== targets =====

fn produce((q, from, n): (Queue<u32>, u32, u32)) {
    for i in from..from + n {
        q.blocking_put(i).unwrap();
    }
}

fn consume((q, n): (Queue<u32>, u32)) -> Vec<u32> {
    (0..n).map(|_| q.blocking_get().unwrap()).collect()
}

/// A chef of the baozi shop (the `pool` example's).
fn chef((basket, name, count): (Queue<String>, String, u32)) {
    for i in 1..=count {
        basket
            .blocking_put(format!("baozi {i} from {name}"))
            .unwrap();
    }
}

fn targets() {
    process::register(produce);
    process::register(consume);
    process::register(chef);
}

process::test_support!(targets);

// ===== the attacker: this binary re-executed as another user =====

const ATTACK_ENV: &str = "THREADLET_TEST_ATTACK_SOCKET";
const ATTACK_TRIES_ENV: &str = "THREADLET_TEST_ATTACK_TRIES";

/// Not a test of its own: when re-executed with `ATTACK_ENV` set, connects to
/// that socket, sends a `get` (framed as the protocol wants, after reading
/// whatever the owner sends), and prints what came back.
#[test]
fn attacker_entry() {
    let Some(name) = std::env::var_os(ATTACK_ENV) else {
        return;
    };
    let name = name.into_string().unwrap();
    let tries: u32 = std::env::var(ATTACK_TRIES_ENV)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    let uid = nix::unistd::geteuid();
    let mut refused = 0;
    for _ in 0..tries {
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let mut stream = match UnixStream::connect_addr(&addr) {
            Ok(s) => s,
            Err(e) => {
                println!("ATTACK-RESULT: cannot connect: {e}");
                continue;
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let get = frame(&Request::Get {
            wait: Wait::Millis(2000),
        });
        // Whatever the owner says first, answer with a get request padded to
        // the size of a handshake answer, then read.
        let _ = stream.write_all(&get);
        let _ = stream.write_all(&[0; 64]);
        let mut got = Vec::new();
        let _ = stream.read_to_end(&mut got);
        if got.is_empty() {
            refused += 1;
        } else {
            println!(
                "ATTACK-RESULT: received {} bytes: {:?}",
                got.len(),
                String::from_utf8_lossy(&got)
            );
        }
    }
    println!("ATTACK-RESULT: uid {uid} refused {refused}/{tries} without a byte");
}

/// Runs `attacker_entry` as uid/gid 65534 against `name`; its stdout, or
/// `None` (with the reason printed) where this test cannot change user.
fn attack_as_nobody(name: &str, tries: u32) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    if !nix::unistd::geteuid().is_root() {
        println!("SKIP: not root, so the attacker cannot run as another uid");
        return None;
    }
    // A copy that `nobody` can execute: the build directory may be private.
    static COPIES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "threadlet-attacker-{}-{}",
        std::process::id(),
        COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = dir.join("attacker");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new(&exe)
        .args([
            "attacker_entry",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ATTACK_ENV, name)
        .env(ATTACK_TRIES_ENV, tries.to_string())
        .env_remove("THREADLET_PROCESS_CHILD")
        .current_dir(&dir)
        .uid(65534)
        .gid(65534)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let out = match out {
        Ok(out) => out,
        Err(e) => panic!("cannot run the attacker as uid 65534: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "attacker failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(stdout)
}

// ===== tests =====

#[test]
fn debug_output_never_shows_the_secret() {
    threadlet_process_setup();
    let q: Queue<u8> = Queue::new(0).unwrap();
    let (a, b) = Pipe::<u8>::new(true).unwrap();
    for (shown, handle) in [
        (format!("{q:?} {q:#?}"), postcard::to_stdvec(&q).unwrap()),
        (format!("{a:?} {a:#?}"), postcard::to_stdvec(&a).unwrap()),
        (format!("{b:?} {b:#?}"), postcard::to_stdvec(&b).unwrap()),
    ] {
        let ((_, secret), _): ((String, [u8; 32]), &[u8]) =
            postcard::take_from_bytes(&handle).unwrap();
        assert_ne!(secret, [0; 32]);
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        for encoding in [
            format!("{secret:?}"),
            format!("{secret:#?}"),
            hex.clone(),
            hex.to_uppercase(),
            String::from_utf8_lossy(&secret).into_owned(),
        ] {
            assert!(!shown.contains(&encoding), "{shown} shows the secret");
        }
    }
    // Every handle has its own secret.
    let q2: Queue<u8> = Queue::new(0).unwrap();
    assert_ne!(address_of(&q).1, address_of(&q2).1);
    assert_ne!(address_of(&q).1, address_of(&a).1);
}

#[test]
fn the_same_user_without_the_secret_is_refused_before_any_frame_is_read() {
    threadlet_process_setup();
    let q: Queue<String> = Queue::new(0).unwrap();
    q.blocking_put("baozi".into()).unwrap();
    let (name, _) = address_of(&q);

    // The old protocol's first move: a get frame at once. It is taken as a
    // (wrong) handshake answer, never as a request.
    let mut stream = connect(&name);
    let mut get = frame(&Request::Get { wait: Wait::No });
    get.resize(64, 0);
    stream.write_all(&get).unwrap();
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got);
    assert_eq!(got.len(), 40, "only the challenge came back: {got:?}");
    assert_eq!(&got[..8], MAGIC);

    // Reading the challenge and answering with a made-up proof.
    let mut stream = connect(&name);
    let mut challenge = [0; 40];
    stream.read_exact(&mut challenge).unwrap();
    stream.write_all(&[0x55; 64]).unwrap();
    assert!(hung_up(&mut stream));

    assert_eq!(q.qsize().unwrap(), 1);
    assert_eq!(q.blocking_get().unwrap(), "baozi");
}

#[tokio::test]
async fn a_wrong_secret_is_refused() {
    threadlet_process_setup();
    let q: Queue<String> = Queue::new(0).unwrap();
    q.put("baozi".into()).await.unwrap();
    let (name, mut secret) = address_of(&q);
    secret[0] ^= 1;
    let forged = forged_queue(&name, secret);
    assert_eq!(forged.get_nowait(), Err(ProcessQueueError::Authentication));
    assert_eq!(
        forged.get_timeout(Duration::from_millis(10)).await,
        Err(ProcessQueueError::Authentication)
    );
    assert_eq!(
        forged.put("poison".into()).await,
        Err(ProcessQueueError::Authentication)
    );
    assert_eq!(forged.qsize(), Err(ProcessQueueError::Authentication));
    assert!(
        ProcessQueueError::Authentication
            .to_string()
            .contains("digest")
    );

    // The same for a pipe end.
    let (a, b) = Pipe::<u8>::new(true).unwrap();
    let bytes = postcard::to_stdvec(&b).unwrap();
    type PipeEnd = ((String, [u8; 32]), (u8, bool, bool, Option<u64>));
    let (((name, mut secret), rest), _): (PipeEnd, &[u8]) =
        postcard::take_from_bytes(&bytes).unwrap();
    secret[31] ^= 0x80;
    let forged: Connection<u8> =
        postcard::from_bytes(&postcard::to_stdvec(&((name, secret), rest)).unwrap()).unwrap();
    assert_eq!(forged.send(&9).await, Err(PipeError::Authentication));

    // The real handles are unaffected.
    b.send(&1).await.unwrap();
    assert_eq!(a.recv().await.unwrap(), 1);
    assert_eq!(q.qsize().unwrap(), 1);
    assert_eq!(q.get().await.unwrap(), "baozi");
}

#[test]
fn a_handle_refuses_an_owner_that_cannot_prove_the_secret() {
    threadlet_process_setup();
    // An impostor listens under a name and answers the handshake without
    // knowing the secret the handle carries.
    let name = format!("threadlet-test-impostor-{}", std::process::id());
    let listener =
        UnixListener::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap()).unwrap();
    let impostor = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut challenge = MAGIC.to_vec();
        challenge.extend([3; 32]);
        stream.write_all(&challenge).unwrap();
        let mut answer = [0; 64];
        stream.read_exact(&mut answer).unwrap();
        stream.write_all(&[0; 32]).unwrap();
        // Whatever the handle sends next would be a request: there is none.
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        rest
    });
    let handle = forged_queue(&name, [9; 32]);
    assert_eq!(
        handle.blocking_put("secret recipe".into()),
        Err(ProcessQueueError::Authentication)
    );
    drop(handle);
    assert!(impostor.join().unwrap().is_empty(), "no request was sent");
}

#[test]
fn another_user_is_refused() {
    threadlet_process_setup();
    let q: Queue<String> = Queue::new(0).unwrap();
    q.blocking_put("baozi 1 from Chef-A".into()).unwrap();
    let (a, b) = Pipe::<String>::new(true).unwrap();
    b.blocking_send(&"a message".into()).unwrap();
    for name in [address_of(&q).0, address_of(&a).0] {
        let Some(out) = attack_as_nobody(&name, 3) else {
            return;
        };
        assert!(
            out.contains("ATTACK-RESULT: uid 65534 refused 3/3 without a byte"),
            "{out}"
        );
        assert!(!out.contains("received"), "{out}");
    }
    assert_eq!(q.blocking_get().unwrap(), "baozi 1 from Chef-A");
    assert_eq!(a.blocking_recv().unwrap(), "a message");
}

#[test]
fn hostile_frames_from_an_authenticated_peer_cost_only_its_connection() {
    threadlet_process_setup();
    let q: Queue<u32> = Queue::new(0).unwrap();
    let (name, secret) = address_of(&q);
    for i in 0..3 {
        q.blocking_put(i).unwrap();
    }

    // An oversize length: dropped without the body being read or allocated.
    let mut s = authenticated(&name, &secret);
    s.write_all(&u32::MAX.to_le_bytes()).unwrap();
    assert!(hung_up(&mut s), "oversize length");

    // A body that is not a request.
    let mut s = authenticated(&name, &secret);
    s.write_all(&[1, 0, 0, 0, 200]).unwrap();
    assert!(hung_up(&mut s), "undecodable frame");

    // A request out of protocol order: acknowledging items never taken.
    let mut s = authenticated(&name, &secret);
    s.write_all(&frame(&Request::Ack)).unwrap();
    assert!(hung_up(&mut s), "ack before get");

    // A put without answer into a bounded queue.
    let bounded: Queue<u32> = Queue::new(1).unwrap();
    let (bname, bsecret) = address_of(&bounded);
    let mut s = authenticated(&bname, &bsecret);
    s.write_all(&frame(&Request::PutNoReply { item: vec![1] }))
        .unwrap();
    assert!(hung_up(&mut s), "unanswered put into a bounded queue");
    assert_eq!(bounded.qsize().unwrap(), 0);

    // A peer that takes an item, then dies inside its next frame: the item
    // goes back to the front of the queue.
    let mut s = authenticated(&name, &secret);
    s.write_all(&frame(&Request::Get { wait: Wait::No }))
        .unwrap();
    let Response::Item(item) = read_response(&mut s) else {
        panic!("no item");
    };
    assert_eq!(item, postcard::to_stdvec(&0u32).unwrap());
    s.write_all(&[100, 0, 0, 0, 1, 2, 3]).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(hung_up(&mut s), "truncated frame");
    drop(s);

    // A peer that asks for a second item before acknowledging the first:
    // dropped, and the first goes back too.
    let mut s = authenticated(&name, &secret);
    let get = frame(&Request::Get { wait: Wait::No });
    s.write_all(&get).unwrap();
    assert!(matches!(read_response(&mut s), Response::Item(_)));
    s.write_all(&get).unwrap();
    assert!(hung_up(&mut s), "get before ack");

    // A pipe peer that sends before attaching, or attaches twice.
    let (pa, pb) = Pipe::<u8>::new(true).unwrap();
    let (pname, psecret) = address_of(&pa);
    let mut s = authenticated(&pname, &psecret);
    s.write_all(&frame(&PipeRequest::Send { msg: vec![1] }))
        .unwrap();
    assert!(hung_up(&mut s), "send before attach");
    // (Both real ends attach first: a peer that attaches to an end and leaves
    // would otherwise count as that end closing, as the protocol says.)
    pb.blocking_send(&4).unwrap();
    assert_eq!(pa.blocking_recv().unwrap(), 4);
    let mut s = authenticated(&pname, &psecret);
    s.write_all(&frame(&PipeRequest::Attach {
        end: 0,
        ticket: None,
    }))
    .unwrap();
    s.write_all(&frame(&PipeRequest::Attach {
        end: 0,
        ticket: None,
    }))
    .unwrap();
    assert!(hung_up(&mut s), "attach twice");
    pb.blocking_send(&5).unwrap();
    assert_eq!(pa.blocking_recv().unwrap(), 5);

    // The queue lost nothing and is in order.
    assert_eq!(q.qsize().unwrap(), 3);
    for i in 0..3 {
        assert_eq!(q.blocking_get().unwrap(), i);
    }
}

#[test]
fn a_peer_that_never_speaks_is_dropped() {
    threadlet_process_setup();
    let q: Queue<u32> = Queue::new(0).unwrap();
    let (name, _) = address_of(&q);
    let mut silent = connect(&name);
    let mut challenge = [0; 40];
    silent.read_exact(&mut challenge).unwrap();
    // The handshake limit is 5 s; the read gives up only after 60 s.
    assert!(hung_up(&mut silent));
    q.blocking_put(1).unwrap();
    assert_eq!(q.blocking_get().unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_connections_cost_the_queue_nothing() {
    threadlet_process_setup();
    const N: u32 = 2_000;
    let q: Queue<u32> = Queue::new(0).unwrap();
    let (name, _) = address_of(&q);
    let idle: Vec<UnixStream> = (0..1000).map(|_| connect(&name)).collect();

    // Real producers and consumers (processes) work while they are open.
    let producers: Vec<_> = (0..2)
        .map(|k| process::spawn_process(produce, (q.clone(), k * N, N)).unwrap())
        .collect();
    let consumer = process::spawn_process(consume, (q.clone(), N)).unwrap();
    let mut got = Vec::new();
    for _ in 0..N {
        got.push(q.get().await.unwrap());
    }
    for p in &producers {
        p.join().await.unwrap();
    }
    got.extend(consumer.join().await.unwrap());
    let distinct: HashSet<u32> = got.iter().copied().collect();
    assert_eq!(got.len(), (2 * N) as usize);
    assert_eq!(distinct, (0..2 * N).collect::<HashSet<_>>());

    // Every idle connection is dropped by the owner.
    let dropped = tokio::task::spawn_blocking(move || {
        idle.into_iter()
            .filter(|s| {
                let mut s = s;
                let mut buf = [0; 64];
                // The challenge first, then the hang-up.
                loop {
                    match s.read(&mut buf) {
                        Ok(0) => return true,
                        Ok(_) => {}
                        Err(_) => return false,
                    }
                }
            })
            .count()
    })
    .await
    .unwrap();
    assert_eq!(dropped, 1000);
    assert_eq!(q.qsize().unwrap(), 0);
}

/// The security report's attack, against the `pool` example's cross-process
/// baozi shop: two chef processes, a basket of 5, the main process eats 8.
/// Another user (and a same-user process without the secret) tries to take
/// baozi all along; it gets none and the shop finishes with every baozi eaten
/// exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_baozi_attack_gets_nothing_and_the_shop_finishes() {
    threadlet_process_setup();
    let basket: Queue<String> = Queue::new(5).unwrap();
    let (name, _) = address_of(&basket);
    let chefs: Vec<_> = ["Chef-A", "Chef-B"]
        .into_iter()
        .map(|chef_name| {
            process::Builder::new()
                .name(chef_name)
                .spawn(chef, (basket.clone(), chef_name.to_string(), 4))
                .unwrap()
        })
        .collect();
    let attack_name = name.clone();
    let other_user = tokio::task::spawn_blocking(move || attack_as_nobody(&attack_name, 10));
    let same_user = tokio::task::spawn_blocking(move || {
        // The same user, knowing the name but not the secret.
        let forged = forged_queue(&name, [0; 32]);
        (0..10)
            .map(|_| forged.blocking_get_timeout(Duration::from_millis(200)))
            .collect::<Vec<_>>()
    });
    let mut eaten = Vec::new();
    for _ in 0..8 {
        eaten.push(basket.get().await.unwrap());
    }
    for c in &chefs {
        c.join().await.unwrap();
    }
    if let Some(out) = other_user.await.unwrap() {
        assert!(
            out.contains("ATTACK-RESULT: uid 65534 refused 10/10 without a byte"),
            "{out}"
        );
    }
    for attempt in same_user.await.unwrap() {
        assert_eq!(attempt, Err(ProcessQueueError::Authentication));
    }
    let expected: HashSet<String> = ["Chef-A", "Chef-B"]
        .iter()
        .flat_map(|c| (1..=4).map(move |i| format!("baozi {i} from {c}")))
        .collect();
    assert_eq!(eaten.len(), 8);
    assert_eq!(eaten.into_iter().collect::<HashSet<_>>(), expected);
    // End of day: the basket is empty.
    assert_eq!(basket.get_nowait(), Err(ProcessQueueError::Empty));
}
