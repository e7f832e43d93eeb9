//! `harness sim serve`: the virtual farm as a standalone Appium-compatible server.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};

use crate::exit_codes;
use crate::farm::server::{Farm, serve as serve_farm};

pub fn serve(host: IpAddr, port: u16, seed: u64) -> i32 {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit_codes::INFRASTRUCTURE;
        }
    };
    rt.block_on(async move {
        let addr = SocketAddr::new(host, port);
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!(
                    "error: cannot listen on {addr}: {e} (hint: choose another --port, or --port 0 for a free one)"
                );
                return exit_codes::INFRASTRUCTURE;
            }
        };
        let local = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| addr.to_string());
        println!("virtual farm listening on http://{local} (seed {seed})");
        let _ = std::io::stdout().flush();
        let farm = Farm::new(seed);
        tokio::select! {
            r = serve_farm(listener, farm) => match r {
                Ok(()) => exit_codes::OK,
                Err(e) => {
                    eprintln!("error: the virtual farm stopped: {e}");
                    exit_codes::INFRASTRUCTURE
                }
            },
            _ = tokio::signal::ctrl_c() => exit_codes::OK,
        }
    })
}
