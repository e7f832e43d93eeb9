//! The embedded virtual device farm: an Appium-compatible server that simulates an Expo app
//! using @clerk/expo and ConvexProviderWithClerk on iOS and Android, known bugs included.
//!
//! `knobs` (the model's settings), `clock` (virtual time, seeded draws), `clerk` (the fake
//! Clerk server side), `app` (one virtual device: app process, storage, auth state machines),
//! `ui` (the screen tree), `source` / `find` / `render` (page source, locators, PNG),
//! `server` (the Appium HTTP protocol), `keychain_file` (an iOS device's keychain written to a
//! simulator keychain database on disk, knob `keychainDb`). `driver_compat` (tests only) runs
//! the core's page-source parser and selectors over the farm's screens: the farm depends on
//! the core, never the reverse.
pub mod app;
pub mod clerk;
pub mod clock;
#[cfg(test)]
mod driver_compat;
pub mod find;
pub mod keychain_file;
pub mod knobs;
pub mod render;
pub mod server;
pub mod settings;
pub mod source;
pub mod ui;
