//! Politeness: what a host allows (robots.txt) and how fast it may be asked (a governor
//! limiter per host, slowed down by Crawl-delay, never sped up).

pub mod limiter;
pub mod robots;

pub use limiter::HostLimiter;
pub use robots::RobotsRules;
