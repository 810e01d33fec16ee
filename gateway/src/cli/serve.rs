//! `phigate serve`: run the gateway.

use std::path::Path;

use anyhow::{Context, Result};

/// Operational logs on stderr: `[log] level` (or PHIGATE_LOG, which wins),
/// text or JSON lines per `[log] format`.
fn init_logging(cfg: &phigate_config::LogConfig) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PHIGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.level));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cfg.json {
        builder.json().flatten_event(true).init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

pub(crate) fn serve(path: Option<&Path>) -> Result<()> {
    let config = super::load(path)?;
    init_logging(&config.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let origin = config.origin.clone();
        let server = crate::server::Server::bind_from(config, path.map(Path::to_path_buf))
            .await
            .context("starting phigate")?;
        for addr in server.local_addrs() {
            tracing::info!(%addr, config = %origin, waiting = server.waiting, "listening");
        }
        server.run(crate::app::shutdown::termination()).await;
        tracing::info!("stopped");
        Ok(())
    })
}
