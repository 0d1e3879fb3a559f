//! From the article "Python Road [Article 16]: Python Concurrent Programming": the RLock example: bank accounts whose `draw_cash` calls
//! `withdraw` while already holding the account's lock (nested acquisition),
//! and two concurrent transfers.
//!
//! Run with `cargo run --example rlock_account`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use threadlet::RLock;

/// The balance lives in the RLock: every read-modify-write goes through its
/// guard. An `RLock<T>` gives shared access (`&T`), since re-entry means two
/// guards of one task may be alive at once, so the balance is an atomic.
struct Account {
    id: &'static str,
    balance: RLock<AtomicI64>,
}

impl Account {
    fn new(id: &'static str, balance: i64) -> Arc<Self> {
        Arc::new(Self {
            id,
            balance: RLock::with_value(AtomicI64::new(balance)),
        })
    }

    async fn balance(&self) -> i64 {
        self.balance.lock().await.load(Ordering::SeqCst)
    }

    /// Returns how deep the caller now holds the lock (2 when nested).
    async fn withdraw(&self, amount: i64) -> usize {
        let balance = self.balance.lock().await;
        let b = balance.load(Ordering::SeqCst);
        tokio::task::yield_now().await; // a race window, closed by the lock
        balance.store(b - amount, Ordering::SeqCst);
        self.balance.recursion_count()
    }

    async fn deposit(&self, amount: i64) {
        let balance = self.balance.lock().await;
        let b = balance.load(Ordering::SeqCst);
        tokio::task::yield_now().await;
        balance.store(b + amount, Ordering::SeqCst);
    }

    /// Withdraws `amount` plus 5% interest: takes the lock, then `withdraw`
    /// takes it again. A plain Lock would deadlock here.
    async fn draw_cash(&self, amount: i64) {
        let _g = self.balance.lock().await;
        let interest = amount * 5 / 100;
        let depth = self.withdraw(amount + interest).await;
        println!(
            "{} drew {} (+{} interest); withdraw ran holding the lock {} deep",
            self.id, amount, interest, depth
        );
        assert_eq!(depth, 2);
    }
}

async fn transfer(from: Arc<Account>, to: Arc<Account>, amount: i64) {
    from.withdraw(amount).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    to.deposit(amount).await;
}

#[tokio::main]
async fn main() {
    let alex = Account::new("alex", 1000);
    let yuan = Account::new("yuan", 1000);

    // The article runs transfer(alex, yuan, 100) and transfer(yuan, alex, 200)
    // in two threads; here ten of each run at once.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        tasks.push(tokio::spawn(transfer(alex.clone(), yuan.clone(), 100)));
        tasks.push(tokio::spawn(transfer(yuan.clone(), alex.clone(), 200)));
    }
    for t in tasks {
        t.await.unwrap();
    }
    println!(">>> {} {}", alex.id, alex.balance().await);
    println!(">>> {} {}", yuan.id, yuan.balance().await);
    assert_eq!(alex.balance().await, 2000);
    assert_eq!(yuan.balance().await, 0);

    alex.draw_cash(100).await;
    println!(">>> {} {}", alex.id, alex.balance().await);
    assert_eq!(alex.balance().await, 1895);
}
