//! Kafka's `ssl.principal.mapping.rules`: from a TLS client certificate's subject DN (RFC
//! 2253, as [`crate::x509_subject`] prints it) to a user name.
//!
//! The config is a comma-separated list of `DEFAULT` (the DN itself) and
//! `RULE:<regex>/<replacement>/[L|U]` (a `/` or `\` inside is escaped with `\`; commas inside
//! a rule are fine). Rules are tried in order; the first whose regex matches the whole DN
//! gives the name: every match of the regex in the DN replaced (Java's `replaceAll`), then
//! lower- or upper-cased. If none applies the mapping fails (Kafka's NoMatchingRule). The
//! default config is `DEFAULT`.
//!
//! The rule splitting uses Kafka's own splitting expression, so odd inputs split as in Kafka.
//! Differences: the regexes are the `regex` crate's, which lacks look-around and
//! back-references (such a rule is refused when parsed), and whose `\w`, `\d` are Unicode;
//! `$n` in a replacement naming a group the regex lacks is kept literally (Kafka does the
//! same when the regex has at least one group, and fails at mapping time when it has none).

use std::fmt;

use regex::{Captures, Regex, RegexBuilder};

use crate::limits::{
    MAPPING_NAME_BYTES_MAX, MAPPING_REGEX_BYTES_MAX, MAPPING_RULES_BYTES_MAX,
    MAPPING_RULES_COUNT_MAX,
};

/// Kafka's default for `ssl.principal.mapping.rules`.
pub const DEFAULT_RULES: &str = "DEFAULT";

/// One rule's text (Kafka's RULE_PATTERN): DEFAULT, or RULE:pattern/replacement/[LU],
/// or anything else (an empty rule is ignored, a non-empty one refused).
const RULE_PATTERN: &str = r"(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("ssl.principal.mapping.rules longer than {MAPPING_RULES_BYTES_MAX} bytes")]
    RulesTooLong,
    #[error("more than {MAPPING_RULES_COUNT_MAX} ssl.principal.mapping.rules")]
    TooManyRules,
    #[error("Invalid rule: `{0}`")]
    InvalidRule(String),
    #[error("Invalid rule regex `{rule}`: {reason}")]
    InvalidRegex { rule: String, reason: String },
    #[error("distinguished name longer than {MAPPING_NAME_BYTES_MAX} bytes")]
    NameTooLong,
    #[error("No rules apply to {0}")]
    NoMatchingRule(String),
}

/// The parsed rules. Build once per listener config; `map` is cheap and pure.
#[derive(Debug, Clone)]
pub struct PrincipalMapper {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
enum Rule {
    Default,
    Replace {
        /// As written in the config, for Display.
        pattern_text: String,
        replacement_text: String,
        /// For the whole-DN test (Java's `matches()`).
        whole: Regex,
        /// For the replacement (Java's `replaceAll`).
        search: Regex,
        case: Case,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Keep,
    Lower,
    Upper,
}

impl PrincipalMapper {
    /// Parses a config value (`DEFAULT`, `RULE:...`, comma separated).
    pub fn parse(rules: &str) -> Result<PrincipalMapper, MappingError> {
        if rules.len() > MAPPING_RULES_BYTES_MAX {
            return Err(MappingError::RulesTooLong);
        }
        let mut parsed = Vec::new();
        for rule in split_rules(rules) {
            if parsed.len() == MAPPING_RULES_COUNT_MAX {
                return Err(MappingError::TooManyRules);
            }
            if let Some(rule) = parse_rule(rule)? {
                parsed.push(rule);
            }
        }
        Ok(PrincipalMapper { rules: parsed })
    }

    /// The mapper for Kafka's default config: the DN is the name.
    pub fn default_rules() -> PrincipalMapper {
        PrincipalMapper {
            rules: vec![Rule::Default],
        }
    }

    /// The user name for subject `distinguished_name`.
    pub fn map(&self, distinguished_name: &str) -> Result<String, MappingError> {
        if distinguished_name.len() > MAPPING_NAME_BYTES_MAX {
            return Err(MappingError::NameTooLong);
        }
        for rule in &self.rules {
            if let Some(name) = rule.apply(distinguished_name) {
                if name.len() > MAPPING_NAME_BYTES_MAX {
                    return Err(MappingError::NameTooLong);
                }
                return Ok(name);
            }
        }
        Err(MappingError::NoMatchingRule(distinguished_name.to_string()))
    }
}

impl Default for PrincipalMapper {
    fn default() -> PrincipalMapper {
        PrincipalMapper::default_rules()
    }
}

/// Kafka's `splitRules`: every match of `\s*(RULE_PATTERN)\s*(,\s*|$)` in the trimmed value.
fn split_rules(rules: &str) -> Vec<&str> {
    let splitter = format!(r"\s*({RULE_PATTERN})\s*(,\s*|$)");
    let Ok(splitter) = Regex::new(&splitter) else {
        unreachable!("the splitting expression is a constant that compiles");
    };
    // Java's String.trim: every char up to and including ' '.
    let trimmed = rules.trim_matches(|c: char| c <= ' ');
    java_find_iter(&splitter, trimmed)
        .filter_map(|caps| caps.get(1))
        .map(|m| m.as_str())
        .collect()
}

/// Kafka's `parseRules` for one rule: the rule expression must match all of it.
fn parse_rule(rule: &str) -> Result<Option<Rule>, MappingError> {
    let anchored = format!(r"\A(?:{RULE_PATTERN})");
    let Ok(parser) = Regex::new(&anchored) else {
        unreachable!("the rule expression is a constant that compiles");
    };
    let caps = parser
        .captures(rule)
        .ok_or_else(|| MappingError::InvalidRule(rule.to_string()))?;
    let matched_len = caps.get(0).map_or(0, |m| m.end());
    if matched_len != rule.len() {
        return Err(MappingError::InvalidRule(rule.to_string()));
    }
    if caps.get(1).is_some() {
        return Ok(Some(Rule::Default));
    }
    let Some(pattern) = caps.get(2) else {
        return Ok(None); // An empty rule: ignored, as in Kafka.
    };
    let replacement = caps.get(4).map_or("", |m| m.as_str());
    let case = match caps.get(6).map(|m| m.as_str()) {
        Some("L") => Case::Lower,
        Some("U") => Case::Upper,
        _ => Case::Keep,
    };
    let compile = |text: &str| {
        RegexBuilder::new(text)
            .size_limit(MAPPING_REGEX_BYTES_MAX)
            .build()
            .map_err(|error| MappingError::InvalidRegex {
                rule: rule.to_string(),
                reason: error.to_string(),
            })
    };
    let search = compile(pattern.as_str())?;
    let whole = compile(&format!(r"\A(?:{})\z", pattern.as_str()))?;
    check_replacement(replacement).map_err(|reason| MappingError::InvalidRegex {
        rule: rule.to_string(),
        reason: reason.to_string(),
    })?;
    Ok(Some(Rule::Replace {
        pattern_text: pattern.as_str().to_string(),
        replacement_text: replacement.to_string(),
        whole,
        search,
        case,
    }))
}

impl Rule {
    fn apply(&self, dn: &str) -> Option<String> {
        let Rule::Replace {
            replacement_text,
            whole,
            search,
            case,
            ..
        } = self
        else {
            return Some(dn.to_string());
        };
        if !whole.is_match(dn) {
            return None;
        }
        let mut out = String::with_capacity(dn.len());
        let mut copied_to = 0;
        for caps in java_find_iter(search, dn) {
            let Some(m) = caps.get(0) else { continue };
            out.push_str(&dn[copied_to..m.start()]);
            expand(replacement_text, &caps, &mut out);
            copied_to = m.end();
            if out.len() > MAPPING_NAME_BYTES_MAX {
                break; // `map` refuses the result; stop growing it.
            }
        }
        out.push_str(&dn[copied_to..]);
        Some(match case {
            Case::Keep => out,
            Case::Lower => out.to_lowercase(),
            Case::Upper => out.to_uppercase(),
        })
    }
}

/// Java's `Matcher.find` loop: unlike the regex crate's iterator, an empty match right after
/// a non-empty one is reported (Java's "abc".replaceAll(".*", "X") is "XX").
fn java_find_iter<'r, 'h>(
    regex: &'r Regex,
    haystack: &'h str,
) -> impl Iterator<Item = Captures<'h>> + 'r
where
    'h: 'r,
{
    let mut at = Some(0);
    std::iter::from_fn(move || {
        let start = at?;
        let caps = regex.captures_at(haystack, start)?;
        let m = caps.get(0)?;
        at = if m.is_empty() {
            // Step over one character; past the end there is nothing more to find.
            haystack[m.end()..]
                .chars()
                .next()
                .map(|c| m.end() + c.len_utf8())
        } else {
            Some(m.end())
        };
        Some(caps)
    })
}

/// Refuses what Java's `appendReplacement` refuses: a trailing `\`, or `$` followed by
/// neither a digit nor `{name}`.
fn check_replacement(replacement: &str) -> Result<(), &'static str> {
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.next().is_none() => return Err("character to be escaped is missing"),
            '$' => match chars.peek() {
                Some(d) if d.is_ascii_digit() => {}
                Some('{') => {
                    if !chars.by_ref().any(|c| c == '}') {
                        return Err("named capturing group is missing trailing '}'");
                    }
                }
                _ => return Err("Illegal group reference"),
            },
            _ => {}
        }
    }
    Ok(())
}

/// Java's replacement syntax: `\x` is x, `$n` a group (digits taken while the number stays
/// a group of the regex), `${name}` a named group. Kafka first turns `$n` naming a missing
/// group into a literal; that is done here too.
fn expand(replacement: &str, caps: &Captures<'_>, out: &mut String) {
    let group_count = caps.len() - 1;
    let mut chars = replacement.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    out.push(escaped);
                }
            }
            '$' => {
                if let Some(&(_, '{')) = chars.peek() {
                    let name: String = chars
                        .by_ref()
                        .skip(1)
                        .map(|(_, c)| c)
                        .take_while(|&c| c != '}')
                        .collect();
                    out.push_str(caps.name(&name).map_or("", |m| m.as_str()));
                    continue;
                }
                let Some(first) = chars.peek().and_then(|&(_, d)| d.to_digit(10)) else {
                    out.push('$'); // Unreachable after check_replacement; keep it literal.
                    continue;
                };
                if first as usize > group_count {
                    out.push_str(&replacement[at..at + 1]);
                    continue; // Kafka's escaping: the digits follow as literals.
                }
                chars.next();
                let mut group = first as usize;
                while let Some(d) = chars.peek().and_then(|&(_, d)| d.to_digit(10)) {
                    let longer = group * 10 + d as usize;
                    if longer > group_count {
                        break;
                    }
                    group = longer;
                    chars.next();
                }
                out.push_str(caps.get(group).map_or("", |m| m.as_str()));
            }
            _ => out.push(c),
        }
    }
}

impl fmt::Display for Rule {
    /// Kafka's rule toString.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Default => f.write_str("DEFAULT"),
            Rule::Replace {
                pattern_text,
                replacement_text,
                case,
                ..
            } => {
                write!(f, "RULE:{pattern_text}/{replacement_text}")?;
                match case {
                    Case::Keep => Ok(()),
                    Case::Lower => f.write_str("/L"),
                    Case::Upper => f.write_str("/U"),
                }
            }
        }
    }
}

impl fmt::Display for PrincipalMapper {
    /// `[rule, rule]`, as Kafka prints its rule list.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, rule) in self.rules.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{rule}")?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> String {
        PrincipalMapper::parse(text)
            .expect("valid rules")
            .to_string()
    }

    #[test]
    fn splitting_matches_kafka() {
        assert_eq!(rules(""), "[]");
        assert_eq!(rules("DEFAULT"), "[DEFAULT]");
        assert_eq!(rules("RULE://"), "[RULE:/]");
        assert_eq!(rules("RULE:/.*/"), "[RULE:/.*]");
        assert_eq!(rules("RULE:/.*/L"), "[RULE:/.*/L]");
        assert_eq!(rules("  RULE:// ,  DEFAULT  "), "[RULE:/, DEFAULT]");
        assert_eq!(
            rules("  RULE:  /     /U   ,DEFAULT  "),
            "[RULE:  /     /U, DEFAULT]"
        );
        assert_eq!(
            rules("  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  "),
            "[RULE:([A-Z]*)/$1/U, RULE:([a-z]+)/$1, DEFAULT]"
        );
        assert_eq!(rules(",   , , ,      , , ,   "), "[]");
        assert_eq!(rules(",,RULE://,,,DEFAULT,,"), "[RULE:/, DEFAULT]");
        assert_eq!(
            rules(r"RULE:\/\\\(\)\n\t/\/\//"),
            r"[RULE:\/\\\(\)\n\t/\/\/]"
        );
    }

    #[test]
    fn invalid_rules_are_refused() {
        for bad in [
            "default",
            "DEFAUL",
            "DEFAULT/L",
            "DEFAULT/U",
            "RULE:CN=(.*?),OU=ServiceUsers.*/$1",
            "rule:^CN=(.*?),OU=ServiceUsers.*$/$1/",
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U",
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/L",
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/U",
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/LU",
            "RULE:(/$x/",
            "RULE:(a)/$/",
        ] {
            assert!(PrincipalMapper::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn rules_map_names_as_kafka() {
        let mapper = PrincipalMapper::parse(
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, \
             RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, \
             RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U, \
             RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U, DEFAULT",
        )
        .expect("valid");
        let map = |dn: &str| mapper.map(dn).expect("mapped");
        assert_eq!(map("CN=Duke,OU=ServiceUsers,O=Org,C=US"), "duke");
        assert_eq!(map("CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US"), "duke@sme");
        assert_eq!(map("cn=duke,ou=sme,dc=mycp,dc=com"), "DUKE@SME");
        assert_eq!(map("cN=duke,OU=JavaSoft,O=Sun Microsystems"), "DUKE");
        assert_eq!(
            map("OU=JavaSoft,O=Sun Microsystems,C=US"),
            "OU=JavaSoft,O=Sun Microsystems,C=US"
        );
    }

    #[test]
    fn escaped_commas_in_names() {
        let mapper =
            PrincipalMapper::parse(r"RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT").expect("valid");
        assert_eq!(
            mapper
                .map(r"CN=Tkac\, Adam,OU=ITZ,DC=geodis,DC=cz")
                .expect("mapped"),
            r"Tkac\, Adam"
        );
    }

    #[test]
    fn no_rule_applies() {
        let mapper = PrincipalMapper::parse("RULE:^CN=(.*)$/$1/").expect("valid");
        assert!(matches!(
            mapper.map("OU=x"),
            Err(MappingError::NoMatchingRule(_))
        ));
        assert_eq!(
            PrincipalMapper::default().map("CN=a").expect("mapped"),
            "CN=a"
        );
        assert!(PrincipalMapper::parse("")
            .expect("valid")
            .map("CN=a")
            .is_err());
    }

    #[test]
    fn replacement_follows_java() {
        // replaceAll also replaces the empty match at the end, as Java does.
        let mapper = PrincipalMapper::parse("RULE:.*/X/").expect("valid");
        assert_eq!(mapper.map("abc").expect("mapped"), "XX");
        // $4 with three groups stays literal; with 12 groups $12 is group 12 and $13 is group 1
        // then "3"; \$ is a dollar.
        let mapper = PrincipalMapper::parse(r"RULE:(a)(b)(c)/$3$4\$1/").expect("valid");
        assert_eq!(mapper.map("abc").expect("mapped"), "c$4$1");
        let mapper = PrincipalMapper::parse("RULE:(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)/$12$13/")
            .expect("valid");
        assert_eq!(mapper.map("abcdefghijkl").expect("mapped"), "la3");
        let mapper = PrincipalMapper::parse("RULE:(?P<who>.*)@x/${who}/U").expect("valid");
        assert_eq!(mapper.map("bob@x").expect("mapped"), "BOB");
    }
}
