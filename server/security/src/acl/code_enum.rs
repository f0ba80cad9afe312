//! The shape shared by Kafka's four ACL enums: an i8 wire code, an upper-case name (what
//! Kafka's `toString` and the CLI print), and a case-insensitive parse of that name.
//! Codes outside the table decode to `Unknown`, as in Kafka's `fromCode`.

macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal => $text:literal,)+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in code order.
            pub const ALL_VALUES: &'static [$name] = &[$($name::$variant,)+];

            /// Kafka's wire code.
            pub fn code(self) -> i8 {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            /// Kafka's `fromCode`: unlisted codes are `Unknown`.
            pub fn from_code(code: i8) -> $name {
                match code {
                    $($code => $name::$variant,)+
                    _ => $name::Unknown,
                }
            }

            /// Kafka's name ("TOPIC", "PREFIXED", "READ", "ALLOW").
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Kafka's `fromString`, case-insensitive; `None` for an unknown name.
            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL_VALUES
                    .iter()
                    .copied()
                    .find(|value| value.name().eq_ignore_ascii_case(text))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

pub(crate) use code_enum;
