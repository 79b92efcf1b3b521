//! robots.txt rules of one host, read with `texting_robots` (groups per user agent, Allow and
//! Disallow with wildcards, Crawl-delay).

use std::time::Duration;

use texting_robots::Robot;

/// The rules that apply to this crawler on one host.
pub enum RobotsRules {
    /// No robots.txt (404 and other 4xx): everything is allowed.
    AllowAll,
    /// robots.txt could not be read (5xx, network): nothing is fetched from the host.
    DisallowAll(String),
    /// The host's rules for this crawler's agent.
    Parsed(Robot),
}

impl RobotsRules {
    /// Reads a robots.txt body for `agent` (the product token of the user agent).
    pub fn parse(agent: &str, body: &[u8]) -> RobotsRules {
        match Robot::new(agent, body) {
            Ok(robot) => RobotsRules::Parsed(robot),
            // An unreadable file is treated as no file, as the major crawlers do.
            Err(_) => RobotsRules::AllowAll,
        }
    }

    /// Whether this crawler may fetch `url`.
    pub fn allowed(&self, url: &str) -> bool {
        match self {
            RobotsRules::AllowAll => true,
            RobotsRules::DisallowAll(_) => false,
            RobotsRules::Parsed(robot) => robot.allowed(url),
        }
    }

    /// The Crawl-delay asked for, if any (capped at one minute).
    pub fn crawl_delay(&self) -> Option<Duration> {
        match self {
            RobotsRules::Parsed(robot) => robot.delay.filter(|d| d.is_finite() && *d > 0.0).map(|d| Duration::from_secs_f32(d.min(60.0))),
            _ => None,
        }
    }
}

/// The product token robots.txt groups are matched against: `passerelle/0.1 (+...)` -> `passerelle`.
pub fn agent_token(user_agent: &str) -> &str {
    user_agent.split(['/', ' ']).next().unwrap_or(user_agent)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROBOTS: &str = "User-agent: *\nDisallow: /admin/\nCrawl-delay: 2\n\nUser-agent: passerelle\nDisallow: /personnel/\n";

    #[test]
    fn agent_groups_and_crawl_delay() {
        let rules = RobotsRules::parse("passerelle", ROBOTS.as_bytes());
        assert!(!rules.allowed("http://h/personnel/x.html"));
        // Our own group replaces the `*` group.
        assert!(rules.allowed("http://h/admin/"));
        let other = RobotsRules::parse("otherbot", ROBOTS.as_bytes());
        assert!(!other.allowed("http://h/admin/"));
        assert_eq!(other.crawl_delay(), Some(Duration::from_secs(2)));
        assert_eq!(agent_token("passerelle/0.1 (+https://example.org/bot)"), "passerelle");
    }
}
