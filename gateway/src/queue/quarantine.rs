//! Held recipients released or deleted by an administrator: audited,
//! then recorded in the spool, before anything else happens to them.

use super::round::outcome_event;
use super::scheduler::Known;
use super::*;

/// Releases or deletes the held recipients of `id`: audited, then recorded
/// in the spool, then in `known`.
pub(super) async fn quarantine(
    shared: &Shared,
    id: QueueId,
    op: QuarantineOp,
    (by, reason): (&str, Option<&str>),
    known: &mut HashMap<QueueId, Known>,
) -> Result<Vec<String>, QuarantineError> {
    let k = known.get(&id).ok_or(QuarantineError::NotWaiting(id))?;
    let held: Vec<usize> = (0..k.states.len())
        .filter(|&i| matches!(k.states[i], RcptState::Held { .. }))
        .collect();
    if held.is_empty() {
        return Err(QuarantineError::NothingHeld(id));
    }
    let (envelope, _) = shared.spool.read(id).await?;
    let t = now();
    let mut updates = Vec::new();
    let mut events = Vec::new();
    let rcpts: Vec<String> = held.iter().map(|&i| envelope.rcpt_to[i].clone()).collect();
    events.push(Event::Quarantine {
        queue_id: id.to_string(),
        op: op.as_str().to_string(),
        recipients: rcpts.clone(),
        by: by.to_string(),
        reason: reason.map(str::to_string),
    });
    for &i in &held {
        let (state, action) = match op {
            // Released mail still never goes below the PHI floor.
            QuarantineOp::Release => (
                RcptState::Pending,
                transport::released(envelope.phi.unwrap_or(true)),
            ),
            QuarantineOp::Delete => (RcptState::Deleted { at: t }, k.actions[i]),
        };
        events.push(outcome_event(
            &envelope,
            i,
            match op {
                QuarantineOp::Release => "released",
                QuarantineOp::Delete => "deleted",
            },
            action,
            Some(format!("by {by}")),
            None,
        ));
        updates.push(StatusUpdate {
            rcpt: i as u32,
            state,
            action: Some(action),
        });
    }
    shared.audit.log(events).await?;
    shared.spool.update(id, &updates).await?;
    let k = known.get_mut(&id).expect("checked above");
    for u in updates {
        k.states[u.rcpt as usize] = u.state;
        if let Some(a) = u.action {
            k.actions[u.rcpt as usize] = a;
        }
    }
    tracing::info!(queue_id = %id, op = op.as_str(), recipients = rcpts.len(), "quarantine");
    Ok(rcpts)
}
