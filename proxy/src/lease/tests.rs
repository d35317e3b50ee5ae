//! Lease table rules: own end times, the cap, owners that stop renewing, lapsed owners.

use super::*;

fn owned(owner: &str) -> Grant {
    Grant {
        owner: Some(owner.into()),
        expires_in: None,
    }
}

#[test]
fn an_item_without_a_lease_is_not_kept() {
    let l = Leases::new();
    l.grant("users", Item::Fault("a".into()), &Grant::default());
    assert!(l.views().is_empty());
    assert!(l
        .take_due(Instant::now() + Duration::from_secs(3600))
        .is_empty());
}

#[test]
fn an_own_end_time_is_due_then_and_the_cap_shortens_it() {
    let l = Leases::new();
    let ttl = Grant {
        owner: None,
        expires_in: Some(Duration::from_secs(600)),
    };
    l.grant("users", Item::Fault("a".into()), &ttl);
    l.set_max_ttl(Some(Duration::from_secs(60)));
    l.grant("users", Item::Fault("b".into()), &ttl);
    l.grant("db", Item::Toxic("t".into()), &Grant::default());
    let now = Instant::now();
    assert!(l.take_due(now + Duration::from_secs(59)).is_empty());
    let due = l.take_due(now + Duration::from_secs(61));
    let names: Vec<_> = due.iter().map(|d| d.item.clone()).collect();
    assert_eq!(
        names,
        [Item::Toxic("t".into()), Item::Fault("b".into())],
        "{due:?}"
    );
    assert!(due.iter().all(|d| d.why == Why::Ended));
    let due = l.take_due(now + Duration::from_secs(601));
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].item, Item::Fault("a".into()));
}

#[test]
fn an_owner_that_stops_renewing_loses_its_items_and_cannot_renew_again() {
    let l = Leases::new();
    l.renew("run-1", Duration::from_secs(10)).unwrap();
    l.grant("users", Item::Fault("a".into()), &owned("run-1"));
    l.grant("users", Item::Disabled, &owned("run-1"));
    l.grant("users", Item::Fault("mine".into()), &owned("run-2"));
    let now = Instant::now();
    assert!(l.take_due(now + Duration::from_secs(9)).is_empty());
    l.renew("run-2", Duration::from_secs(30)).unwrap();
    let due = l.take_due(now + Duration::from_secs(11));
    assert_eq!(due.len(), 2, "{due:?}");
    assert!(due
        .iter()
        .all(|d| d.why == Why::Lapsed && d.owner.as_deref() == Some("run-1")));
    let err = l.renew("run-1", Duration::from_secs(10)).unwrap_err();
    assert_eq!(err.owner, "run-1");
    assert!(l.admit(&owned("run-1")).is_err());
    assert_eq!(l.views().len(), 1);
}

#[test]
fn forget_and_release_drop_leases() {
    let l = Leases::new();
    l.grant("users", Item::Fault("a".into()), &owned("run-1"));
    l.grant("users", Item::Fault("b".into()), &owned("run-1"));
    l.forget("users", &Item::Fault("a".into()));
    assert_eq!(l.views().len(), 1);
    assert!(l.release("run-1"));
    let due = l.take_due(Instant::now());
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0].item, Item::Fault("b".into()));
    assert!(l.views().is_empty());
    assert!(l.renew("run-1", Duration::from_secs(10)).is_err());
}

#[test]
fn a_view_shows_the_earlier_of_its_end_and_its_owner_lease() {
    let l = Leases::new();
    l.renew("run-1", Duration::from_secs(10)).unwrap();
    let g = Grant {
        owner: Some("run-1".into()),
        expires_in: Some(Duration::from_secs(2)),
    };
    l.grant("users", Item::Fault("a".into()), &g);
    let v = l.view("users", &Item::Fault("a".into())).unwrap();
    let in_ms = v.expires_at.unwrap() as i64 - unix_ms_at(Instant::now()) as i64;
    assert!((1000..=2100).contains(&in_ms), "{in_ms}");
    assert_eq!(v.owner.as_deref(), Some("run-1"));
}
