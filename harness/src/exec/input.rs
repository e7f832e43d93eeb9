//! Text input: `inputText`, `inputRandom*`, `eraseText`, and the flow's clipboard
//! (`copyTextFrom`, `setClipboard`, `pasteText`).
//!
//! Text typed from a secret variable (the app profile's `secrets`) is sent as sensitive, so
//! backends do not log it. Random input comes from the case's seeded [`Rng`](crate::rng::Rng):
//! the same seed types the same text.

use crate::exec::describe::describe_selector;
use crate::exec::{Executor, StepError};
use crate::flow::model::{RandomInput, Selector, Step, Template};
use crate::rng::Rng;

/// Characters `eraseText` removes by default (Maestro's).
pub const ERASE_DEFAULT: u32 = 50;
/// Length of `inputRandomText` / `inputRandomNumber` by default.
pub const RANDOM_LENGTH: u32 = 8;

const FIRST_NAMES: &[&str] = &[
    "Alex", "Sam", "Maria", "Kenji", "Amara", "Liam", "Sofia", "Noah", "Aisha", "Mateo", "Ingrid", "Ravi",
];
const LAST_NAMES: &[&str] = &[
    "Morgan", "Silva", "Tanaka", "Okafor", "Novak", "Larsen", "Haddad", "Kowalski", "Nguyen", "Rossi",
];
const CITIES: &[&str] = &[
    "Lisbon",
    "Osaka",
    "Nairobi",
    "Toronto",
    "Melbourne",
    "Bergen",
    "Valparaíso",
    "Kraków",
    "Hanoi",
    "Porto",
];
const COUNTRIES: &[&str] = &[
    "Portugal",
    "Japan",
    "Kenya",
    "Canada",
    "Australia",
    "Norway",
    "Chile",
    "Poland",
    "Vietnam",
    "Ireland",
];
const COLORS: &[&str] = &[
    "Teal",
    "Crimson",
    "Amber",
    "Indigo",
    "Olive",
    "Coral",
    "Lavender",
    "Navy",
    "Ochre",
    "Turquoise",
];

fn pick(rng: &mut Rng, list: &[&'static str]) -> &'static str {
    list[(rng.next_u64() % list.len() as u64) as usize]
}

/// The text an `inputRandom*` command types.
pub fn random_text(rng: &mut Rng, kind: RandomInput, length: Option<u32>) -> String {
    let n = length.unwrap_or(RANDOM_LENGTH) as usize;
    match kind {
        RandomInput::Number => (0..n).map(|_| char::from(b'0' + (rng.next_u64() % 10) as u8)).collect(),
        RandomInput::Email => format!("{}@example.com", rng.ident("user", 6).to_lowercase()),
        RandomInput::PersonName => {
            let first = pick(rng, FIRST_NAMES);
            format!("{first} {}", pick(rng, LAST_NAMES))
        }
        RandomInput::CityName => pick(rng, CITIES).into(),
        RandomInput::CountryName => pick(rng, COUNTRIES).into(),
        RandomInput::ColorName => pick(rng, COLORS).into(),
        RandomInput::Text => rng.ident("", n).to_lowercase(),
    }
}

impl<'a> Executor<'a> {
    /// `inputText`: sensitive when it uses a secret variable.
    pub(crate) async fn input_text(&mut self, t: &Template) -> Result<(), StepError> {
        let text = self.vars.render(t)?;
        let sensitive = t
            .vars()
            .any(|v| self.app.is_some_and(|a| a.secrets.iter().any(|s| s == v)));
        self.device.type_text(&text, sensitive).await?;
        Ok(())
    }

    /// `inputRandomText`, `inputRandomNumber`, `inputRandomEmail`, `inputRandomPersonName`, …
    pub(crate) async fn input_random(&mut self, kind: RandomInput, length: Option<u32>) -> Result<(), StepError> {
        let text = random_text(&mut self.rng, kind, length);
        self.device.type_text(&text, false).await?;
        Ok(())
    }

    /// `eraseText`.
    pub(crate) async fn erase_text(&mut self, characters: Option<u32>) -> Result<(), StepError> {
        self.device.erase_text(characters.unwrap_or(ERASE_DEFAULT)).await?;
        Ok(())
    }

    /// `copyTextFrom`: the first match's text, once it is visible.
    pub(crate) async fn copy_text_from(&mut self, step: &Step, s: &Selector) -> Result<(), StepError> {
        let timeout = self.timeout(step, None);
        let Some(hit) = self.wait_visible(s, timeout).await? else {
            return Err(StepError::failed(format!(
                "copyTextFrom: {} not found",
                describe_selector(s)
            )));
        };
        self.clipboard = Some(hit.text);
        self.sync_copied_text();
        Ok(())
    }

    /// `setClipboard`.
    pub(crate) fn set_clipboard(&mut self, t: &Template) -> Result<(), StepError> {
        self.clipboard = Some(self.vars.render(t)?);
        self.sync_copied_text();
        Ok(())
    }

    /// `pasteText`: types what was copied.
    pub(crate) async fn paste_text(&mut self) -> Result<(), StepError> {
        let text = self
            .clipboard
            .clone()
            .ok_or_else(|| StepError::failed("pasteText: nothing was copied"))?;
        self.device.type_text(&text, false).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::fake::{FakeDevice, FakeEvent, Node, screen};
    use crate::exec::testing::World;
    use crate::platform::Platform;

    fn typed(d: &FakeDevice) -> Vec<(String, bool)> {
        d.events()
            .iter()
            .filter_map(|e| match e {
                FakeEvent::TypeText { text, sensitive } => Some((text.clone(), *sensitive)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn random_names_come_from_lists_and_follow_the_seed() {
        for (kind, list) in [
            (RandomInput::CityName, CITIES),
            (RandomInput::CountryName, COUNTRIES),
            (RandomInput::ColorName, COLORS),
        ] {
            let mut rng = Rng::new(3);
            let drawn: Vec<String> = (0..40).map(|_| random_text(&mut rng, kind, None)).collect();
            assert!(drawn.iter().all(|d| list.contains(&d.as_str())), "{drawn:?}");
            let distinct: std::collections::BTreeSet<_> = drawn.iter().collect();
            assert!(distinct.len() >= 5, "{kind:?} draws vary: {distinct:?}");
            let mut again = Rng::new(3);
            let replay: Vec<String> = (0..40).map(|_| random_text(&mut again, kind, None)).collect();
            assert_eq!(drawn, replay, "the same seed types the same names");
        }
        let mut rng = Rng::new(9);
        let names: Vec<String> = (0..40)
            .map(|_| random_text(&mut rng, RandomInput::PersonName, None))
            .collect();
        for n in &names {
            let (first, last) = n.split_once(' ').unwrap();
            assert!(FIRST_NAMES.contains(&first) && LAST_NAMES.contains(&last), "{n}");
        }
        assert!(names.iter().collect::<std::collections::BTreeSet<_>>().len() >= 5);
    }

    #[test]
    fn random_text_numbers_and_emails_keep_their_shape() {
        let mut rng = Rng::new(1);
        let n = random_text(&mut rng, RandomInput::Number, Some(12));
        assert!(n.len() == 12 && n.chars().all(|c| c.is_ascii_digit()), "{n}");
        let t = random_text(&mut rng, RandomInput::Text, None);
        assert_eq!(t.len(), 8);
        let e = random_text(&mut rng, RandomInput::Email, None);
        assert!(e.starts_with("user") && e.ends_with("@example.com"), "{e}");
    }

    #[tokio::test]
    async fn the_executor_types_seeded_random_input() {
        let w = World::flow("- inputRandomPersonName\n- inputRandomColorName\n");
        let mut a = FakeDevice::android();
        w.run_with(&mut a, |e| e).await;
        let mut rng = Rng::new(crate::exec::testing::SEED);
        let expected = vec![
            (random_text(&mut rng, RandomInput::PersonName, None), false),
            (random_text(&mut rng, RandomInput::ColorName, None), false),
        ];
        assert_eq!(typed(&a), expected);
    }

    #[tokio::test]
    async fn secret_variables_are_typed_as_sensitive() {
        let w = World::app_flow("- inputText: ${HARNESS_EMAIL}\n- inputText: \"pw ${HARNESS_PASSWORD}\"\n")
            .var("HARNESS_EMAIL", "a@b.c")
            .var("HARNESS_PASSWORD", "hunter22");
        let mut d = FakeDevice::android();
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(
            typed(&d),
            [("a@b.c".to_string(), true), ("pw hunter22".to_string(), true)]
        );
        // The step names keep the template, never the value.
        assert_eq!(out.steps[1].name, "inputText pw ${HARNESS_PASSWORD}");
        let w = World::flow("- inputText: hello\n");
        let mut d = FakeDevice::android();
        w.run(&mut d).await;
        assert_eq!(typed(&d), [("hello".to_string(), false)]);
    }

    #[tokio::test]
    async fn clipboard_copies_pastes_and_erases() {
        let w = World::flow(
            "- pasteText: {optional: true}\n- copyTextFrom: {id: code}\n- pasteText\n- setClipboard: set\n- pasteText\n- eraseText\n- eraseText: 3\n",
        );
        let mut d = FakeDevice::android().showing(screen(Platform::Android, &[Node::id("code").with_text("123456")]));
        let out = w.run(&mut d).await;
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(out.steps[0].message.as_deref(), Some("pasteText: nothing was copied"));
        assert_eq!(
            d.actions(),
            [
                FakeEvent::TypeText {
                    text: "123456".into(),
                    sensitive: false
                },
                FakeEvent::TypeText {
                    text: "set".into(),
                    sensitive: false
                },
                FakeEvent::EraseText(50),
                FakeEvent::EraseText(3),
            ]
        );
    }
}
