//! `HostLimiter`: the pace of requests to one host.
//!
//! Each host has its own governor limiter (one request per period, no burst), so a slow host
//! never holds up the others: the crawl loop asks `ready()` and moves on to another host when
//! this one must wait, instead of parking a worker.

use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// One host's pace: a permit per period, no burst.
pub struct HostLimiter {
    limiter: DefaultDirectRateLimiter,
    period: Duration,
    clock: DefaultClock,
}

impl HostLimiter {
    /// `per_second` from the config, slowed to `crawl_delay` when robots.txt asks for it.
    pub fn new(per_second: f64, crawl_delay: Option<Duration>) -> HostLimiter {
        let mut period = Duration::from_secs_f64(1.0 / per_second.max(0.001));
        if let Some(delay) = crawl_delay {
            period = period.max(delay);
        }
        let quota = Quota::with_period(period.max(Duration::from_micros(1))).expect("period is positive");
        HostLimiter { limiter: RateLimiter::direct(quota), period, clock: DefaultClock::default() }
    }

    /// Takes a permit now, or says when one will be free.
    pub fn ready(&self) -> Result<(), Instant> {
        match self.limiter.check() {
            Ok(()) => Ok(()),
            Err(not_until) => Err(Instant::now() + not_until.wait_time_from(self.clock.now())),
        }
    }

    /// The time between two requests.
    pub fn period(&self) -> Duration {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_request_per_period_and_crawl_delay_only_slows() {
        let l = HostLimiter::new(20.0, None);
        assert!(l.ready().is_ok());
        let wait = l.ready().unwrap_err();
        assert!(wait > Instant::now() && wait <= Instant::now() + Duration::from_millis(60));
        assert_eq!(HostLimiter::new(20.0, Some(Duration::from_secs(2))).period(), Duration::from_secs(2));
        assert_eq!(HostLimiter::new(0.5, Some(Duration::from_secs(1))).period(), Duration::from_secs(2));
    }
}
