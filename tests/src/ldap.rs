//! An LDAP directory for S/MIME tests: OpenLDAP's `slapd` with an MDB
//! database the test fills (people with `mail` and
//! `userCertificate;binary`), listening on loopback for LDAPS and for
//! plain LDAP with StartTLS, killed on drop.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use tempfile::TempDir;

use crate::ca::Identity;

/// The suffix every entry sits under.
pub const BASE: &str = "dc=lab,dc=example";

/// A running `slapd`.
pub struct LdapServer {
    /// `ldaps://` (TLS from the first byte).
    pub ldaps: SocketAddr,
    /// `ldap://` (StartTLS offered; TLS required before a search).
    pub ldap: SocketAddr,
    child: Child,
    dir: TempDir,
}

/// A person in the directory: an address and the certificates (DER)
/// stored for it.
pub struct Person<'a> {
    /// `mail`.
    pub mail: &'a str,
    /// `userCertificate;binary` values.
    pub certs: Vec<Vec<u8>>,
}

impl LdapServer {
    /// Serves `people` under [`BASE`] with `tls` as the server identity.
    /// The bind DN `cn=gateway,<BASE>` has the password `secret`;
    /// anonymous reads are allowed too.
    pub fn start(tls: &Identity, people: &[Person<'_>]) -> LdapServer {
        let mut last = String::new();
        for _ in 0..5 {
            match Self::try_start(tls, people) {
                Ok(server) => return server,
                Err(log) if log.contains("Address already in use") => last = log,
                Err(log) => panic!("slapd exited: {log}"),
            }
        }
        panic!("slapd found no free port in 5 tries: {last}");
    }

    fn try_start(tls: &Identity, people: &[Person<'_>]) -> Result<LdapServer, String> {
        let slapd = crate::require_tool("slapd");
        let slapadd = crate::require_tool("slapadd");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("db")).unwrap();
        let conf = d.join("slapd.conf");
        std::fs::write(
            &conf,
            format!(
                "include /etc/ldap/schema/core.schema\n\
                 include /etc/ldap/schema/cosine.schema\n\
                 include /etc/ldap/schema/inetorgperson.schema\n\
                 pidfile {d}/slapd.pid\n\
                 modulepath /usr/lib/ldap\nmoduleload back_mdb\n\
                 TLSCertificateFile {cert}\nTLSCertificateKeyFile {key}\n\
                 security tls=1\n\
                 database mdb\nsuffix \"{BASE}\"\nrootdn \"cn=admin,{BASE}\"\nrootpw admin\n\
                 directory {d}/db\nmaxsize 10485760\n\
                 access to * by * read\n",
                d = d.display(),
                cert = tls.cert.display(),
                key = tls.key.display(),
            ),
        )
        .unwrap();
        let ldif = d.join("people.ldif");
        std::fs::write(&ldif, ldif_for(people)).unwrap();
        let out = Command::new(&slapadd)
            .arg("-f")
            .arg(&conf)
            .arg("-l")
            .arg(&ldif)
            .output()
            .expect("run slapadd");
        assert!(out.status.success(), "slapadd: {out:?}");
        let port = || {
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
        };
        let (ldaps, ldap) = (port(), port());
        let log = std::fs::File::create(d.join("slapd.log")).unwrap();
        let child = Command::new(slapd)
            .arg("-f")
            .arg(&conf)
            .arg("-h")
            .arg(format!("ldaps://{ldaps}/ ldap://{ldap}/"))
            // Foreground, errors to stderr.
            .args(["-d", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start slapd");
        let mut server = LdapServer {
            ldaps,
            ldap,
            child,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(ldaps).is_err() || TcpStream::connect(ldap).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                return Err(format!("({status}) {}", server.log()));
            }
            assert!(Instant::now() < deadline, "slapd did not listen in time");
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    /// What slapd wrote.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("slapd.log")).unwrap_or_default()
    }

    /// Its directory (the bind password file can go here).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// The base entry, the gateway's bind entry, and one inetOrgPerson per
/// person, certificates base64 (`::`).
fn ldif_for(people: &[Person<'_>]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = format!(
        "dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: lab\no: Lab\n\n\
         dn: cn=gateway,{BASE}\nobjectClass: person\ncn: gateway\nsn: gateway\nuserPassword: secret\n\n"
    );
    for (i, p) in people.iter().enumerate() {
        out += &format!(
            "dn: cn=person{i},{BASE}\nobjectClass: inetOrgPerson\ncn: person{i}\nsn: person{i}\nmail: {}\n",
            p.mail
        );
        for der in &p.certs {
            out += &format!("userCertificate;binary:: {}\n", b64.encode(der));
        }
        out += "\n";
    }
    out
}

impl Drop for LdapServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
