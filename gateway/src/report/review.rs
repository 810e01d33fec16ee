//! Audit review: what in a period of the audit log deserves a person's
//! look, against the log's own history. Logs nobody reads protect nobody;
//! this turns them into a short list a security officer can work through,
//! each item naming the queue IDs to look up (`phigate audit search
//! --queue-id`). Nothing here holds PHI: senders are the practice's own
//! staff, recipients appear by domain only.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Serialize;

use crate::audit::Record;
use crate::audit::event::Event;
use phigate_config::ReviewConfig;

/// One thing to look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// What kind: `phi_volume_jump`, `phi_to_free_mail`, `phi_to_new_domain`,
    /// `opt_out_burst`, `auth_failures`, `quarantine_releases`, `downtime`,
    /// `unclean_stop`.
    pub kind: &'static str,
    /// In words.
    pub what: String,
    /// The records to look up (at most 20).
    pub queue_ids: Vec<String>,
}

const MAX_IDS: usize = 20;

fn ids(v: &[String]) -> Vec<String> {
    v.iter().take(MAX_IDS).cloned().collect()
}

/// Reviews `[since, until)` (Unix seconds), with `baseline_days` before
/// `since` as each sender's own baseline and everything before `since` as
/// the history of domains already written to.
pub fn review(dir: &Path, since: u64, until: u64, t: &ReviewConfig) -> std::io::Result<Vec<Item>> {
    let baseline_from = since.saturating_sub(t.baseline_days * 86_400);
    let mut seen_domains: BTreeSet<String> = BTreeSet::new();
    let mut baseline_phi: BTreeMap<String, u64> = BTreeMap::new();
    // Window: per queue ID its sender and recipient domains; PHI ones.
    let mut sender_of: BTreeMap<String, String> = BTreeMap::new();
    let mut domains_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut window_phi: Vec<String> = Vec::new();
    let mut before_phi: BTreeSet<String> = BTreeSet::new();
    let mut before_sender: BTreeMap<String, String> = BTreeMap::new();
    let mut opt_outs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut auth: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut releases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut items = Vec::new();
    let mut last_stop: Option<u64> = None;
    let mut running = false;
    for name in crate::audit::files(dir)? {
        let reader = BufReader::new(std::fs::File::open(dir.join(&name))?);
        for line in reader.split(b'\n') {
            let Ok(r) = serde_json::from_slice::<Record>(&line?) else {
                continue;
            };
            let Some(at) = crate::date::parse(&r.time) else {
                continue;
            };
            if at >= until {
                continue;
            }
            let day = r.time.get(..10).unwrap_or("").to_string();
            let inside = at >= since;
            match r.event {
                Event::Received(x) => {
                    let domains: Vec<String> = x
                        .recipients
                        .iter()
                        .map(|a| crate::policy::domain_of(a))
                        .collect();
                    if inside {
                        sender_of.insert(x.queue_id.clone(), x.sender.to_ascii_lowercase());
                        domains_of.insert(x.queue_id, domains);
                    } else {
                        seen_domains.extend(domains);
                        if at >= baseline_from {
                            before_sender.insert(x.queue_id, x.sender.to_ascii_lowercase());
                        }
                    }
                }
                Event::Scan(s) if s.phi || s.uninspectable => {
                    if inside {
                        window_phi.push(s.queue_id);
                    } else if at >= baseline_from {
                        before_phi.insert(s.queue_id);
                    }
                }
                Event::Decision(d) if inside && d.rule == "opt_out" => {
                    opt_outs.entry(day).or_default().push(d.queue_id);
                }
                Event::AuthFailure { client_ip, .. } if inside => {
                    *auth.entry((day, client_ip)).or_default() += 1;
                }
                // Console sign-ins that failed count with SMTP AUTH's.
                Event::Console {
                    client_ip, action, ..
                } if inside && action == "sign_in_failed" => {
                    *auth.entry((day, client_ip)).or_default() += 1;
                }
                Event::Quarantine {
                    queue_id, op, by, ..
                } if inside && op == "release" => {
                    releases.entry(by).or_default().push(queue_id);
                }
                Event::Start { .. } => {
                    if inside {
                        if running {
                            items.push(Item {
                                kind: "unclean_stop",
                                what: format!(
                                    "the gateway started at {} without a recorded stop before it (a crash or a kill)",
                                    r.time
                                ),
                                queue_ids: Vec::new(),
                            });
                        }
                        if let Some(stopped) = last_stop
                            && at.saturating_sub(stopped) >= t.downtime_secs
                        {
                            items.push(Item {
                                kind: "downtime",
                                what: format!(
                                    "no gateway running from {} to {} ({} min)",
                                    crate::date::rfc3339(stopped),
                                    r.time,
                                    (at - stopped) / 60
                                ),
                                queue_ids: Vec::new(),
                            });
                        }
                    }
                    running = true;
                    last_stop = None;
                }
                Event::Stop => {
                    running = false;
                    last_stop = Some(at);
                }
                _ => {}
            }
        }
    }
    for id in before_phi {
        if let Some(sender) = before_sender.get(&id) {
            *baseline_phi.entry(sender.clone()).or_default() += 1;
        }
    }
    // Per sender: PHI in the window against the sender's own baseline rate.
    let days = ((until.saturating_sub(since)) as f64 / 86_400.0).max(1.0 / 24.0);
    let mut by_sender: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for id in &window_phi {
        if let Some(s) = sender_of.get(id) {
            by_sender.entry(s.clone()).or_default().push(id.clone());
        }
    }
    for (sender, list) in &by_sender {
        let base = baseline_phi.get(sender).copied().unwrap_or(0) as f64;
        let expected = base / t.baseline_days.max(1) as f64 * days;
        let n = list.len() as u64;
        if n >= t.phi_jump_min && n as f64 > t.phi_jump_factor * expected {
            items.push(Item {
                kind: "phi_volume_jump",
                what: format!(
                    "<{}> sent {n} PHI message(s); their own baseline is about {expected:.1} for such a period",
                    if sender.is_empty() { "" } else { sender }
                ),
                queue_ids: ids(list),
            });
        }
    }
    // PHI to free-mail domains, and to domains never written to before.
    let mut free: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut new: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for id in &window_phi {
        for d in domains_of.get(id).into_iter().flatten() {
            if t.free_mail_domains.iter().any(|f| f == d) {
                free.entry(d.clone()).or_default().push(id.clone());
            } else if !seen_domains.contains(d) {
                new.entry(d.clone()).or_default().push(id.clone());
            }
        }
    }
    for (d, list) in free {
        items.push(Item {
            kind: "phi_to_free_mail",
            what: format!("{} PHI message(s) to {d}, a free-mail service", list.len()),
            queue_ids: ids(&list),
        });
    }
    for (d, list) in new {
        items.push(Item {
            kind: "phi_to_new_domain",
            what: format!(
                "{} PHI message(s) to {d}, a domain the practice had not written to before",
                list.len()
            ),
            queue_ids: ids(&list),
        });
    }
    for (day, list) in opt_outs {
        if list.len() as u64 >= t.opt_out_burst {
            items.push(Item {
                kind: "opt_out_burst",
                what: format!("{} PHI recipient(s) sent without encryption at the sender's request (opt-out keyword) on {day}", list.len()),
                queue_ids: ids(&list),
            });
        }
    }
    for ((day, client), n) in auth {
        if n >= t.auth_failures {
            items.push(Item {
                kind: "auth_failures",
                what: format!("{n} failed SMTP AUTH attempts from {client} on {day}"),
                queue_ids: Vec::new(),
            });
        }
    }
    for (by, list) in releases {
        if list.len() as u64 >= t.releases {
            items.push(Item {
                kind: "quarantine_releases",
                what: format!("{} held message(s) released by {by}", list.len()),
                queue_ids: ids(&list),
            });
        }
    }
    Ok(items)
}

/// The digest as a plain-text message to the security officer.
pub fn digest_message(
    hostname: &str,
    to: &str,
    period: &str,
    items: &[Item],
    id: &str,
    now: u64,
) -> Vec<u8> {
    let mut text = format!("Audit review for {period} from phigate at {hostname}.\r\n\r\n");
    if items.is_empty() {
        text.push_str("Nothing unusual was found.\r\n");
    }
    for (i, item) in items.iter().enumerate() {
        text.push_str(&format!("{}. [{}] {}\r\n", i + 1, item.kind, item.what));
        if !item.queue_ids.is_empty() {
            text.push_str(&format!("   queue IDs: {}\r\n", item.queue_ids.join(" ")));
        }
    }
    text.push_str(
        "\r\nLook each one up with `phigate audit search --queue-id ID`. This digest names\r\n\
         no patient and quotes no message.\r\n",
    );
    let subject = format!("phigate audit review {period}: {} item(s)", items.len());
    mail_builder::MessageBuilder::new()
        .from((
            "phigate audit review".to_string(),
            format!("noreply-review@{hostname}"),
        ))
        .to(to)
        .subject(subject)
        .date(now)
        .message_id(format!("{id}.review@{hostname}"))
        .header(
            "Auto-Submitted",
            mail_builder::headers::raw::Raw::new("auto-generated"),
        )
        .text_body(text)
        .write_to_vec()
        .expect("writing a message into memory cannot fail")
}
