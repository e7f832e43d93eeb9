//! `harness sim serve`: the virtual farm as a standalone Appium-compatible server.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};

use crate::errors::HarnessError;
use crate::exit_codes;
use crate::farm::server::{Farm, serve as serve_farm};

pub fn serve(host: IpAddr, port: u16, seed: u64) -> Result<i32, HarnessError> {
    let rt = super::runtime()?;
    rt.block_on(async move {
        let addr = SocketAddr::new(host, port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| HarnessError::FarmListen { addr, source })?;
        let local = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| addr.to_string());
        println!("virtual farm listening on http://{local} (seed {seed})");
        let _ = std::io::stdout().flush();
        let farm = Farm::new(seed);
        tokio::select! {
            r = serve_farm(listener, farm) => r.map(|()| exit_codes::OK).map_err(HarnessError::FarmStopped),
            _ = tokio::signal::ctrl_c() => Ok(exit_codes::OK),
        }
    })
}
