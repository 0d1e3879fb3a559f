//! The article's RLock example: bank accounts whose `draw_cash` calls
//! `withdraw` while already holding the account's lock (nested acquisition),
//! and two concurrent transfers.
//!
//! Run with `cargo run --example rlock_account`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use threadlet::RLock;

/// The RLock guards every read-modify-write of the balance.
struct Account {
    id: &'static str,
    balance: AtomicI64,
    lock: RLock,
}

impl Account {
    fn new(id: &'static str, balance: i64) -> Arc<Self> {
        Arc::new(Self {
            id,
            balance: AtomicI64::new(balance),
            lock: RLock::new(),
        })
    }

    fn balance(&self) -> i64 {
        self.balance.load(Ordering::SeqCst)
    }

    /// Returns how deep the caller now holds the lock (2 when nested).
    async fn withdraw(&self, amount: i64) -> usize {
        let _g = self.lock.lock().await;
        let b = self.balance();
        tokio::task::yield_now().await; // a race window, closed by the lock
        self.balance.store(b - amount, Ordering::SeqCst);
        self.lock.recursion_count()
    }

    async fn deposit(&self, amount: i64) {
        let _g = self.lock.lock().await;
        let b = self.balance();
        tokio::task::yield_now().await;
        self.balance.store(b + amount, Ordering::SeqCst);
    }

    /// Withdraws `amount` plus 5% interest: takes the lock, then `withdraw`
    /// takes it again. A plain Lock would deadlock here.
    async fn draw_cash(&self, amount: i64) {
        let _g = self.lock.lock().await;
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
    println!(">>> {} {}", alex.id, alex.balance());
    println!(">>> {} {}", yuan.id, yuan.balance());
    assert_eq!(alex.balance(), 2000);
    assert_eq!(yuan.balance(), 0);

    alex.draw_cash(100).await;
    println!(">>> {} {}", alex.id, alex.balance());
    assert_eq!(alex.balance(), 1895);
}
