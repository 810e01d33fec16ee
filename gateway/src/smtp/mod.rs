//! The SMTP protocol without I/O: command framing and parsing, replies, the
//! DATA reader and the session state machine. Nothing here touches a socket
//! or a runtime, so all of it is tested with plain byte slices.

pub mod command;
pub mod data;
pub mod reply;
pub mod session;
pub mod status;

pub use data::DataReader;
pub use reply::Reply;
pub use session::{Accepted, Action, Content, Session, Step};
