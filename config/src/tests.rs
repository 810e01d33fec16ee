use super::*;

fn errors(text: &str) -> Vec<ConfigError> {
    Config::from_toml("test.toml", text).unwrap_err().0
}

#[test]
fn embedded_default_validates() {
    let cfg = Config::embedded_default();
    assert_eq!(cfg.server.listen, vec!["127.0.0.1:2525".parse().unwrap()]);
    assert_eq!(cfg.server.hostname, "phigate.example");
    assert_eq!(
        cfg.spool.dir,
        std::path::PathBuf::from("./phigate-data/spool")
    );
    assert_eq!(cfg.metrics.listen.port(), 9725);
    assert!(cfg.delivery.relay.is_none());
    assert!(cfg.server.is_relay_client("127.9.9.9".parse().unwrap()));
    assert!(
        cfg.server
            .is_relay_client("::ffff:127.0.0.1".parse().unwrap())
    );
    assert!(!cfg.server.is_relay_client("192.0.2.1".parse().unwrap()));
}

#[test]
fn empty_file_is_the_documented_defaults() {
    let cfg = Config::from_toml("empty.toml", "").unwrap();
    let def = Config::embedded_default();
    assert_eq!(cfg.server.listen, def.server.listen);
    assert_eq!(cfg.server.max_message_size, def.server.max_message_size);
    assert_eq!(cfg.spool.dir, def.spool.dir);
}

#[test]
fn contract_keys_parse() {
    let cfg = Config::from_toml(
        "c.toml",
        r#"
[server]
listen = ["127.0.0.1:2525", "[::1]:2525"]
hostname = "gw.practice.example"
relay_networks = ["127.0.0.1/32", "10.1.2.3"]
max_message_size = 1000000
[server.tls]
cert = "cert.pem"
key = "key.pem"
[spool]
dir = "/var/spool/phigate"
[audit]
dir = "/var/log/phigate"
[metrics]
listen = "127.0.0.1:9725"
[delivery]
relay = "[127.0.0.1]:2526"
"#,
    )
    .unwrap();
    assert_eq!(cfg.server.listen.len(), 2);
    assert_eq!(cfg.server.relay_networks[1].to_string(), "10.1.2.3/32");
    assert_eq!(cfg.server.max_message_size, 1_000_000);
    let relay = cfg.delivery.relay.unwrap();
    assert_eq!(relay.to_string(), "[127.0.0.1]:2526");
    assert!(!relay.mx_lookup);
    assert!(cfg.server.tls.is_some());
}

#[test]
fn unknown_key_names_line_and_key() {
    let e = errors("[server]\nhostname = \"a.example\"\nlistn = [\"127.0.0.1:25\"]\n");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].line, 3);
    assert!(e[0].message.contains("unknown field `listn`"), "{}", e[0]);
    assert_eq!(e[0].to_string().split(':').next(), Some("test.toml"));
}

#[test]
fn wrong_type_names_key() {
    let e = errors("[server]\n\nmax_message_size = \"big\"\n");
    assert_eq!(e[0].line, 3);
    assert_eq!(e[0].key, "server.max_message_size");
}

/// The shared content budget must fit the largest message.
#[test]
fn content_memory_fits_the_largest_message() {
    let e = errors("[server]\nmax_message_size = 1000000\ncontent_memory = 999999\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].line, 3);
    assert_eq!(e[0].key, "server.content_memory");
    assert!(
        e[0].message.contains("max_message_size"),
        "{}",
        e[0].message
    );
}

#[test]
fn every_semantic_error_reported_at_once() {
    let e = errors(
        r#"[server]
listen = ["nonsense"]
relay_networks = ["10.0.0.0/33"]
max_recipients = 0
[metrics]
listen = "also nonsense"
[delivery]
relay = "[unclosed:25"
"#,
    );
    let got: Vec<(usize, &str)> = e.iter().map(|e| (e.line, e.key.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (2, "server.listen"),
            (3, "server.relay_networks"),
            (4, "server.max_recipients"),
            (6, "metrics.listen"),
            (8, "delivery.relay"),
        ]
    );
}

#[test]
fn auth_user_needs_argon2_hash() {
    let e = errors("[[server.auth.users]]\nname = \"a\"\npassword_hash = \"secret\"\n");
    assert_eq!(e[0].line, 3);
    assert_eq!(e[0].key, "server.auth.users.password_hash");
    // The would-be secret never appears in the message.
    assert!(!e[0].to_string().contains("secret"));
}

#[test]
fn tls_policy_floors() {
    let cfg = Config::from_toml(
        "t.toml",
        r#"
[tls]
default = "may"
phi = "verify"
[[tls.policy]]
domain = "partner.example"
phi = "encrypt"
[[tls.policy]]
domain = "strict.example"
default = "verify"
"#,
    )
    .unwrap();
    // What the levels mean for a recipient is the gateway's transport rule
    // (gateway/src/policy/transport.rs); here, that the file reads right.
    let t = &cfg.tls;
    assert_eq!((t.default, t.phi), (TlsLevel::May, TlsLevel::Verify));
    assert_eq!(t.policies[0].domain, "partner.example");
    assert_eq!(t.policies[0].phi, Some(TlsLevel::Encrypt));
    assert_eq!(t.policies[1].default, Some(TlsLevel::Verify));
}

#[test]
fn phi_never_below_encrypt_and_dane_needs_dnssec() {
    let e = errors(
        "[tls]\nphi = \"may\"\n[[tls.policy]]\ndomain = \"a.example\"\nphi = \"none\"\ndefault = \"dane\"\n",
    );
    let got: Vec<(usize, &str)> = e.iter().map(|e| (e.line, e.key.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (2, "tls.phi"),
            (5, "tls.policy.phi"),
            (6, "tls.policy.default")
        ]
    );
    assert!(e[2].message.contains("needs DNSSEC"), "{}", e[2].message);
    let with_dnssec = Config::from_toml(
        "t.toml",
        "[tls]\nphi = \"dane\"\n[delivery.dns]\ndnssec = true\n",
    );
    assert!(with_dnssec.is_ok());
}

#[test]
fn delivery_routes_and_static_dns() {
    let cfg = Config::from_toml(
        "d.toml",
        r#"
[delivery]
port = 2525
[[delivery.route]]
domains = ["Payer.example"]
relay = "[127.0.0.1]:2600"
[delivery.dns]
mode = "static"
mx = { "hospital.example" = ["mx1.hospital.example"] }
hosts = { "mx1.hospital.example" = ["127.0.0.1"] }
"#,
    )
    .unwrap();
    let d = &cfg.delivery;
    assert_eq!(d.routes[0].domains, vec!["payer.example"]);
    assert!(d.dns.static_only);
    assert_eq!(
        d.dns.hosts[0].1,
        vec!["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(d.retry.give_up_after.as_secs(), 5 * 86_400);
}

#[test]
fn next_hop_forms() {
    use crate::validate::parse_next_hop;
    let h = parse_next_hop("smtp.example.com:587").unwrap();
    assert_eq!((h.port, h.mx_lookup), (587, true));
    let h = parse_next_hop("[smtp.example.com]").unwrap();
    assert_eq!((h.port, h.mx_lookup), (25, false));
    let h = parse_next_hop("[::1]:2526").unwrap();
    assert_eq!(h.host, Host::Ip("::1".parse().unwrap()));
    assert!(parse_next_hop("[::1]:0").is_none());
    assert!(parse_next_hop("bad host:25").is_none());
}

#[test]
fn custom_rules_parse_and_bad_ones_are_named() {
    let cfg = Config::from_toml(
        "r.toml",
        r#"
[detectors]
threshold = 0.6
[detectors.thresholds]
name_date = 0.7
[[detectors.rules]]
id = "lab-accession"
category = "lab_accession"
pattern = '\bACC-[0-9]{8}\b'
context = ["accession"]
"#,
    )
    .unwrap();
    assert_eq!(cfg.detectors.threshold, 0.6);
    assert_eq!(
        cfg.detectors.thresholds,
        vec![("name_date".to_string(), 0.7)]
    );
    assert_eq!(cfg.detectors.rules[0].weight, 0.8);
    assert_eq!(cfg.detectors.rules[0].window, 60);

    let e = errors(
        r#"[[detectors.rules]]
id = "broken"
category = "mrn"
pattern = "(unclosed"
[[detectors.rules]]
id = "empty"
category = "Bad Name"
weight = 2.0
"#,
    );
    let got: Vec<(usize, &str)> = e.iter().map(|e| (e.line, e.key.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (4, "detectors.rules.pattern (rule `broken`)"),
            (6, "detectors.rules.pattern (rule `empty`)"),
            (7, "detectors.rules.category (rule `empty`)"),
            (8, "detectors.rules.weight (rule `empty`)"),
        ]
    );
    assert!(
        e[0].message.contains("invalid regular expression"),
        "{}",
        e[0]
    );
}

#[test]
fn policy_rules_and_encryption_are_checked_with_lines() {
    let text = r#"
[audit]
retention_days = 30
[policy]
opt_out_domains = ["not a domain"]
[[policy.rule]]
id = "a"
action = "shred"
[[policy.rule]]
id = "b"
action = "encrypt"
add_header = "no colon here"
[[policy.rule]]
id = "a"
recipient_domains = ["payer.example"]
action = "deliver"
"#;
    let e = errors(text);
    let shown: Vec<String> = e.iter().map(|x| x.to_string()).collect();
    let has = |line: usize, part: &str| {
        assert!(
            e.iter()
                .any(|x| x.line == line && x.to_string().contains(part)),
            "no error at line {line} containing {part:?}: {shown:#?}"
        )
    };
    has(3, "at least 2190");
    has(5, "not a domain");
    has(8, "`shred` is not one of");
    has(11, "needs an [encryption] relay");
    has(12, "is not a header");
    has(14, "used twice");
    assert_eq!(e.len(), 6, "{shown:#?}");
}

#[test]
fn encryption_route_parses_and_needs_a_trigger() {
    let ok = Config::from_toml(
        "t",
        "[encryption]\nrelay = \"[10.1.1.1]:587\"\nuser = \"u\"\npassword = \"p\"\nheader = \"X-Encrypt: yes\"\n[[policy.rule]]\nid = \"x\"\naction = \"encrypt\"\n",
    )
    .unwrap();
    let Some(EncryptionConfig::Relay(r)) = ok.encryption else {
        panic!("relay expected")
    };
    assert_eq!(r.header, Some(("X-Encrypt".into(), "yes".into())));
    assert_eq!(r.auth, Some(("u".into(), "p".into())));
    assert_eq!(ok.policy.rules[0].action, Action::Encrypt);
    let e = errors("[encryption]\nrelay = \"[10.1.1.1]:587\"\n");
    assert!(
        e[0].to_string().contains("needs subject_tag or header"),
        "{e:?}"
    );
    let e =
        errors("[encryption]\nkind = \"smime\"\nrelay = \"[10.1.1.1]:587\"\nsubject_tag = \"x\"\n");
    assert!(e[0].to_string().contains("configured in [smime]"), "{e:?}");
}

#[test]
fn wide_relay_networks_are_warned_about() {
    let warn = |nets: &str| {
        let cfg =
            Config::from_toml("t.toml", &format!("[server]\nrelay_networks = {nets}\n")).unwrap();
        cfg.warnings()
            .into_iter()
            .filter(|w| w.starts_with("server.relay_networks"))
            .count()
    };
    assert_eq!(warn(r#"["0.0.0.0/0"]"#), 1);
    assert_eq!(
        warn(r#"["40.92.0.0/15", "2a01:111::/32"]"#),
        2,
        "provider-sized public ranges"
    );
    assert_eq!(
        warn(r#"["127.0.0.0/8", "::1/128", "10.0.0.0/16", "192.168.1.0/24"]"#),
        0
    );
}

#[test]
fn argon2_hashes_are_checked_for_form_and_strength() {
    let user = |hash: &str| {
        Config::from_toml(
            "t.toml",
            &format!("[[server.auth.users]]\nname = \"u@x.example\"\npassword_hash = \"{hash}\"\n"),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    };
    assert!(user("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1v0pB4S7Jyq5r3z0iYpZ+1mH1qv7lq1m8bT0o6Qm4kA").is_ok());
    let weak = user("$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$1v0pB4S7Jyq5r3z0iYpZ+1mH1qv7lq1m8bT0o6Qm4kA").unwrap_err();
    assert!(
        weak.contains("t.toml:3: server.auth.users.password_hash") && weak.contains("too weak"),
        "{weak}"
    );
    let bad = user("$argon2id$v=19$m=19456,t=2$nope").unwrap_err();
    assert!(bad.contains("PHC"), "{bad}");
}

/// Regression (operator review): every commented example in the default
/// file, uncommented where it stands, makes a valid file (the
/// `[[delivery.route]]` example used to capture the `[delivery]` keys after
/// it, and placeholders such as `public_key = "64 hex digits"` were invalid).
#[test]
fn default_examples_uncommented_where_they_stand_are_valid() {
    fn example(line: &str) -> Option<&str> {
        let rest = line.strip_prefix("# ")?;
        let key = rest.split(" = ").next()?;
        let is_key = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && rest.contains(" = ");
        (rest.starts_with('[') || is_key).then_some(rest)
    }
    let mut uncommented = 0;
    let text: String = crate::EMBEDDED_DEFAULT
        .lines()
        .map(|l| match example(l) {
            Some(rest) => {
                uncommented += 1;
                format!("{rest}\n")
            }
            None => format!("{l}\n"),
        })
        .collect();
    assert!(uncommented > 40, "only {uncommented} example lines found");
    let cfg =
        Config::from_toml("uncommented.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    // The examples landed in their own tables, not in the one above them.
    assert_eq!(cfg.delivery.port, 25);
    assert_eq!(cfg.delivery.routes.len(), 1);
    assert!(cfg.dkim.is_some() && cfg.encryption.is_some());
    assert_eq!(cfg.policy.rules.len(), 1);
}

#[test]
fn smime_algorithms_per_domain_and_their_errors() {
    let cfg = Config::from_toml(
        "t.toml",
        "[smime]\n[[smime.domain]]\ndomain = \"Lab.example\"\ncontent = \"aes256-gcm\"\nkey_transport = \"rsa-oaep\"\n",
    )
    .unwrap();
    assert_eq!(
        cfg.smime.algorithms("lab.example").as_str(),
        "aes256-gcm rsa-oaep"
    );
    assert_eq!(
        cfg.smime.algorithms("mx.lab.example").as_str(),
        "aes256-gcm rsa-oaep"
    );
    assert_eq!(
        cfg.smime.algorithms("otherlab.example").as_str(),
        "aes256-cbc rsa"
    );
    assert!(cfg.encrypts(), "an [smime] section makes `encrypt` usable");
    let e = errors(
        "[smime]\nouter_subject = \"Verschlüsselt\"\n[[smime.domain]]\ndomain = \"lab.example\"\ncontent = \"des\"\n",
    );
    let shown: Vec<String> = e.iter().map(|x| x.to_string()).collect();
    assert!(
        shown
            .iter()
            .any(|s| s.contains("t.toml:2: smime.outer_subject: must be ASCII")),
        "{shown:?}"
    );
    assert!(
        shown
            .iter()
            .any(|s| s.contains("t.toml:5: smime.domain.content: `des`")),
        "{shown:?}"
    );
}

#[test]
fn smime_ldap_is_tls_only_and_its_errors_name_the_line() {
    let cfg = Config::from_toml(
        "t.toml",
        "[smime.ldap]\nurl = \"ldap://Dir.Lab.example\"\nbase = \"ou=people,dc=lab,dc=example\"\n",
    )
    .unwrap();
    let l = cfg.smime.ldap.as_ref().unwrap();
    assert_eq!(
        (l.host.as_str(), l.port, l.starttls),
        ("dir.lab.example", 389, true)
    );
    assert_eq!(
        (l.attribute.as_str(), l.timeout_secs, l.cache_secs),
        ("mail", 5, 300)
    );
    let cfg = Config::from_toml(
        "t.toml",
        "[smime.ldap]\nurl = \"ldaps://[::1]:1636\"\nbase = \"dc=x\"\n",
    )
    .unwrap();
    let l = cfg.smime.ldap.as_ref().unwrap();
    assert_eq!((l.host.as_str(), l.port, l.starttls), ("::1", 1636, false));
    for (text, line, key, says) in [
        (
            "[smime.ldap]\nbase = \"dc=x\"\nurl = \"http://dir.example\"\n",
            3,
            "smime.ldap.url",
            "is not ldaps://",
        ),
        (
            "[smime.ldap]\nbase = \"dc=x\"\nurl = \"ldaps://dir.example/dc=x?mail\"\n",
            3,
            "smime.ldap.url",
            "only a scheme, a host and a port",
        ),
        (
            "[smime.ldap]\nurl = \"ldaps://dir.example:0\"\nbase = \"dc=x\"\n",
            2,
            "smime.ldap.url",
            "not a port",
        ),
        (
            "[smime.ldap]\nurl = \"ldaps://d.example\"\nbase = \"dc=x\"\nbind_dn = \"cn=gw\"\n",
            4,
            "smime.ldap.bind_dn",
            "go together",
        ),
        (
            "[smime.ldap]\nurl = \"ldaps://d.example\"\nbase = \"dc=x\"\nattribute = \"mail)(x=*\"\n",
            4,
            "smime.ldap.attribute",
            "not an attribute name",
        ),
    ] {
        let shown: Vec<String> = errors(text).iter().map(|x| x.to_string()).collect();
        assert!(
            shown
                .iter()
                .any(|s| s.contains(&format!("t.toml:{line}: {key}: ")) && s.contains(says)),
            "{text}: {shown:?}"
        );
    }
}

#[test]
fn console_needs_tls_off_loopback_and_a_second_factor() {
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1v0pB4S7Jyq5r3z0iYpZ+1mH1qv7lq1m8bT0o6Qm4kA";
    let cfg = Config::from_toml(
        "t.toml",
        &format!(
            "[console]\nlisten = \"127.0.0.1:8443\"\ntls = false\n[[console.user]]\nname = \"a\"\n\
             password_hash = \"{hash}\"\nrole = \"viewer\"\ntotp_secret = \"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\"\n"
        ),
    )
    .unwrap();
    let c = cfg.console.unwrap();
    assert_eq!(
        (c.tls.is_none(), c.users[0].role),
        (true, ConsoleRole::Viewer)
    );
    assert_eq!(c.session_idle, std::time::Duration::from_secs(30 * 60));
    for (text, line, key, says) in [
        (
            "[console]\nlisten = \"0.0.0.0:8443\"\ntls = false\n".to_string(),
            3,
            "console.tls",
            "only on a loopback",
        ),
        (
            "[console]\nlisten = \"127.0.0.1:8443\"\n".to_string(),
            2,
            "console.tls",
            "HTTPS needs a certificate",
        ),
        (
            format!(
                "[console]\nlisten = \"127.0.0.1:1\"\ntls = false\n[[console.user]]\nname = \"a\"\n\
                 password_hash = \"{hash}\"\nrole = \"root\"\ntotp_secret = \"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\"\n"
            ),
            7,
            "console.user.role",
            "not viewer or admin",
        ),
        (
            format!(
                "[console]\nlisten = \"127.0.0.1:1\"\ntls = false\n[[console.user]]\nname = \"a\"\n\
                 password_hash = \"{hash}\"\nrole = \"admin\"\n"
            ),
            5,
            "console.user.totp_secret",
            "no second factor",
        ),
        (
            format!(
                "[console]\nlisten = \"127.0.0.1:1\"\ntls = false\n[[console.user]]\nname = \"a\"\n\
                 password_hash = \"{hash}\"\nrole = \"admin\"\ntotp_secret = \"JBSWY3DP\"\n"
            ),
            8,
            "console.user.totp_secret",
            "at least 128 bits",
        ),
    ] {
        let shown: Vec<String> = errors(&text).iter().map(|x| x.to_string()).collect();
        assert!(
            shown
                .iter()
                .any(|s| s.contains(&format!("t.toml:{line}: {key}: ")) && s.contains(says)),
            "{text}: {shown:?}"
        );
    }
}
