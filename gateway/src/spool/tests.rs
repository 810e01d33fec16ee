use super::*;
use std::io::Write;

fn envelope(spool: &Spool, body: &[u8]) -> Envelope {
    Envelope {
        id: spool.next_id(),
        received_at: 0,
        client_ip: "127.0.0.1".parse().unwrap(),
        helo: "c.example".into(),
        mail_from: "a@b.example".into(),
        rcpt_to: vec!["x@y.example".into()],
        body_type: Default::default(),
        smtputf8: false,
        requiretls: false,
        tls_optional: false,
        tls: None,
        auth_user: None,
        size: body.len() as u64,
        phi: None,
        categories: Vec::new(),
        decisions: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_are_all_found_again() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 1 << 16, true).unwrap().spool;
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let s = spool.clone();
        tasks.push(tokio::spawn(async move {
            let body = format!("message {i}\r\n")
                .repeat(50 + i as usize)
                .into_bytes();
            let env = envelope(&s, &body);
            s.append(&env, &[&body], &audited(&env)).await.unwrap();
            (env.id, body)
        }));
    }
    let mut sent = Vec::new();
    for t in tasks {
        sent.push(t.await.unwrap());
    }
    let found = scan(dir.path(), true).unwrap();
    assert_eq!(found.messages.len(), 200);
    for (id, body) in sent {
        let m = found.messages.iter().find(|m| m.envelope.id == id).unwrap();
        assert_eq!(m.message.as_deref(), Some(&body[..]));
    }
}

#[tokio::test]
async fn segments_roll_at_the_configured_size() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 1 << 16, false).unwrap().spool;
    let body = vec![b'x'; 8 << 10];
    for _ in 0..20 {
        let env = envelope(&spool, &body);
        spool.append(&env, &[&body], &audited(&env)).await.unwrap();
    }
    let found = scan(dir.path(), false).unwrap();
    assert_eq!(found.messages.len(), 20);
    // 160 KiB of records in 64 KiB segments.
    assert_eq!(found.segments, vec![1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_read_back_by_id_and_statuses_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 1 << 16, true).unwrap().spool;
    let mut tasks = Vec::new();
    for i in 0..50u32 {
        let s = spool.clone();
        tasks.push(tokio::spawn(async move {
            let body = format!("body {i}\r\n")
                .repeat(100 + i as usize)
                .into_bytes();
            let mut env = envelope(&s, &body);
            env.rcpt_to.push("second@y.example".into());
            s.append(&env, &[&body], &audited(&env)).await.unwrap();
            (env.id, body)
        }));
    }
    let mut sent = Vec::new();
    for t in tasks {
        sent.push(t.await.unwrap());
    }
    for (id, body) in &sent {
        let (env, content) = spool.read(*id).await.unwrap();
        assert_eq!(env.id, *id);
        assert_eq!(&content, body);
    }
    let (id, _) = sent[7];
    let delivered = RcptState::Delivered {
        at: 5,
        reply: "250 ok".into(),
    };
    spool
        .update(
            id,
            &[StatusUpdate {
                rcpt: 1,
                state: delivered.clone(),
                action: None,
            }],
        )
        .await
        .unwrap();
    let found = scan(dir.path(), false).unwrap();
    let m = found.messages.iter().find(|m| m.envelope.id == id).unwrap();
    assert_eq!(m.rcpts, vec![RcptState::Pending, delivered]);
    assert!(matches!(
        spool.read(QueueId::from_u64(1)).await,
        Err(SpoolError::NotFound(_))
    ));
}

#[tokio::test]
async fn done_messages_are_not_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 1 << 20, false).unwrap().spool;
    let e1 = envelope(&spool, b"a");
    let e2 = envelope(&spool, b"b");
    spool.append(&e1, &[b"a"], &audited(&e1)).await.unwrap();
    spool.append(&e2, &[b"b"], &audited(&e2)).await.unwrap();
    spool.complete(e1.id).await.unwrap();
    let found = scan(dir.path(), false).unwrap();
    let ids: Vec<QueueId> = found.messages.iter().map(|m| m.envelope.id).collect();
    assert_eq!(ids, vec![e2.id]);
}

#[tokio::test]
async fn torn_tail_is_trimmed_and_ids_stay_above_recovered_ones() {
    let dir = tempfile::tempdir().unwrap();
    let last_id = {
        let spool = Spool::open(dir.path(), 1 << 20, true).unwrap().spool;
        let e = envelope(&spool, b"kept");
        spool.append(&e, &[b"kept"], &audited(&e)).await.unwrap();
        e.id
    };
    // Simulate a crash mid-write: half a record at the end of the segment.
    let seg = segment_path(dir.path(), 1);
    let good_len = std::fs::metadata(&seg).unwrap().len();
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&[0x40, 0, 0, 0, 1, 2, 3]).unwrap();
    drop(f);
    // The old process is gone (its lock with it) once the spool is dropped
    // and the writer thread has seen its channel close.
    let opened = loop {
        match Spool::open(dir.path(), 1 << 20, true) {
            Ok(o) => break o,
            Err(SpoolError::Locked(_)) => std::thread::sleep(std::time::Duration::from_millis(10)),
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(opened.waiting, 1);
    assert_eq!(opened.trimmed, vec![(1, good_len)]);
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), good_len);
    assert!(opened.spool.next_id() > last_id);
}

#[test]
fn a_second_gateway_cannot_open_the_same_spool() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Spool::open(dir.path(), 1 << 20, true).unwrap();
    let second = Spool::open(dir.path(), 1 << 20, true);
    assert!(matches!(second, Err(SpoolError::Locked(_))));
}

#[tokio::test]
async fn finished_segments_are_removed_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 1 << 16, false).unwrap().spool;
    let body = vec![b'x'; 40 << 10];
    let mut ids = Vec::new();
    for _ in 0..4 {
        let env = envelope(&spool, &body);
        spool.append(&env, &[&body], &audited(&env)).await.unwrap();
        ids.push(env.id);
    }
    // 40 KiB records in 64 KiB segments: two per segment, segments 1 and 2.
    assert_eq!(scan(dir.path(), false).unwrap().segments, vec![1, 2]);
    // Finishing a message of segment 2 frees nothing: segment 1 still waits.
    spool.complete(ids[2]).await.unwrap();
    spool.complete(ids[3]).await.unwrap();
    spool.complete(ids[0]).await.unwrap();
    let segs = scan(dir.path(), false).unwrap().segments;
    assert!(segs.contains(&1) && segs.contains(&2), "{segs:?}");
    // The last message of segment 1: segments 1 and 2 both go.
    spool.complete(ids[1]).await.unwrap();
    let found = wait_for(dir.path(), |s| {
        !s.segments.contains(&1) && !s.segments.contains(&2)
    });
    assert!(found.messages.is_empty());
}

/// Removal happens on the writer thread after the reply: poll briefly.
fn wait_for(dir: &Path, ok: impl Fn(&Scan) -> bool) -> Scan {
    for _ in 0..200 {
        let s = scan(dir, false).unwrap();
        if ok(&s) {
            return s;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!(
        "spool never reached the expected state: {:?}",
        scan(dir, false).unwrap().segments
    );
}

/// The receipt the audit log would give for `env`'s records.
fn audited(env: &Envelope) -> crate::audit::Receipt {
    crate::audit::Receipt::for_tests(&[env.id.to_string()])
}

/// Regression for the intake stages: a receipt that does not cover the
/// message (records about another one) does not let it into the spool.
#[tokio::test]
async fn a_receipt_for_another_message_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 1 << 20, true).unwrap().spool;
    let (a, b) = (envelope(&spool, b"x"), envelope(&spool, b"x"));
    let err = spool.append(&a, &[b"x"], &audited(&b)).await.unwrap_err();
    assert!(
        matches!(err, SpoolError::Unaudited(id) if id == a.id),
        "{err}"
    );
    assert!(spool.append(&a, &[b"x"], &audited(&a)).await.is_ok());
}
